package graph

import "github.com/quirehq/quire/graph/model"

// pageInfo is every connection's pageInfo: whether more follows, and the
// cursor of the last of its n edges.
func pageInfo(n int, hasNext bool, cursor func(int) string) *model.PageInfo {
	info := &model.PageInfo{HasNextPage: hasNext}
	if n > 0 {
		c := cursor(n - 1)
		info.EndCursor = &c
	}
	return info
}
