# lib/files.mk - the allocator's source files, one list for everything that builds lib/: the
# top Makefile's kernel and host builds, and the README's recipe for your own kernel (a test
# checks that the README names exactly these, and compiles exactly these against a stub seam).
#
#   LIB_SRC         what a kernel compiles: the core with the fast free index
#   LIB_SRC_LIST    the same with the reference index (the sorted walk) in its place

LIB_SRC      := lib/heap.c lib/format.c lib/index_tree.c lib/heap_check.c lib/heap_error.c lib/mem.c lib/rbtree.c
LIB_SRC_LIST := $(subst lib/index_tree.c,lib/index_list.c,$(LIB_SRC))
