package dataset_test

import (
	"fmt"

	"github.com/birnn/birnn/dataset"
)

// LoadData on a tiny unpacked aclImdb folder, then padding as the study
// does (maxlen 4, padding post, truncating pre).
func ExampleLoadData() {
	o := dataset.DefaultLoadOptions()
	o.NumWords = 10
	train, test, err := dataset.LoadData("testdata/mini", o)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, x := range train.X {
		fmt.Println(train.Files[i], train.Y[i], x)
	}
	fmt.Println(test.Len(), "test rows")
	m, _ := dataset.PadSequences(train.X, 4, dataset.Post, dataset.Pre, 0)
	fmt.Println(m.Rows, m.Cols, m.Row(2))
	// Output:
	// train/neg/10_2.txt 0 [1 4 2]
	// train/neg/0_3.txt 0 [1 8 9 8 6]
	// train/pos/0_9.txt 1 [1 5 7 6 2 7]
	// train/pos/1_7.txt 1 [1 2 2 9]
	// 2 test rows
	// 4 4 [7 6 2 7]
}

func ExamplePadSequences() {
	seqs := [][]int32{{1, 2, 3, 4}, {5, 6}}
	pre, _ := dataset.PadSequences(seqs, 3, "pre", "pre", 0)
	post, _ := dataset.PadSequences(seqs, 3, "post", "post", 0)
	fmt.Println(pre.Data)
	fmt.Println(post.Data)
	// Output:
	// [2 3 4 0 5 6]
	// [1 2 3 5 6 0]
}

func ExampleTextToWordSequence() {
	fmt.Printf("%q\n", dataset.TextToWordSequence("I didn't like it.<br /><br />NOT AT ALL, café!"))
	// Output:
	// ["i" "didn't" "like" "it" "br" "br" "not" "at" "all" "café"]
}

func ExampleWordIndex_Decode() {
	wi := dataset.WordIndex{"the": 1, "film": 2}
	fmt.Println(wi.Decode([]int32{1, 4, 5, 2, 0}, 3))
	// Output:
	// [? the film ? ?]
}
