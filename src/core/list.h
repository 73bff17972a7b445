/* SPDX-License-Identifier: BSD-2-Clause */
/* Doubly linked lists threaded through two pointer fields of their nodes,
 * whose names the caller gives (prev/next, older/newer), with the two ends
 * kept wherever the caller keeps them.  prev points towards first, next
 * towards last; a node at an end has NULL there.  Macros, since the nodes
 * are of different types; first and last are evaluated more than once. */
#ifndef TC_LIST_H
#define TC_LIST_H

#include <stddef.h>

/* Takes n out of the list and clears its two links. */
#define LIST_UNLINK(n, prev, next, first, last)			\
	do {							\
		if ((n)->prev)					\
			(n)->prev->next = (n)->next;		\
		else						\
			(first) = (n)->next;			\
		if ((n)->next)					\
			(n)->next->prev = (n)->prev;		\
		else						\
			(last) = (n)->prev;			\
		(n)->prev = (n)->next = NULL;			\
	} while (0)

/* Puts n, not in the list, at its last end. */
#define LIST_INSERT_LAST(n, prev, next, first, last)		\
	do {							\
		(n)->prev = (last);				\
		(n)->next = NULL;				\
		if (last)					\
			(last)->next = (n);			\
		else						\
			(first) = (n);				\
		(last) = (n);					\
	} while (0)

/* Puts n, not in the list, at its first end: the same seen from there. */
#define LIST_INSERT_FIRST(n, prev, next, first, last)		\
	LIST_INSERT_LAST(n, next, prev, last, first)

#endif
