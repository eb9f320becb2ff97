/* Linked structures: a singly linked list, a binary search tree, an exception-free error path. */
#include <stdlib.h>

struct node { int value; struct node *next; };
struct tree { long key; struct tree *left, *right; };

struct node *push_front(struct node *head, int value) {
  struct node *n = malloc(sizeof *n);
  if (!n) return head;
  n->value = value;
  n->next = head;
  return n;
}

struct node *reverse(struct node *head) {
  struct node *prev = NULL;
  while (head) { struct node *next = head->next; head->next = prev; prev = head; head = next; }
  return prev;
}

long sum_list(const struct node *n) {
  long s = 0;
  for (; n; n = n->next) s += n->value;
  return s;
}

void free_list(struct node *n) {
  while (n) { struct node *next = n->next; free(n); n = next; }
}

struct tree *tree_insert(struct tree *t, long key) {
  if (!t) {
    t = calloc(1, sizeof *t);
    if (t) t->key = key;
    return t;
  }
  if (key < t->key) t->left = tree_insert(t->left, key);
  else if (key > t->key) t->right = tree_insert(t->right, key);
  return t;
}

int tree_height(const struct tree *t) {
  if (!t) return 0;
  int l = tree_height(t->left), r = tree_height(t->right);
  return 1 + (l > r ? l : r);
}

void tree_walk(const struct tree *t, void (*visit)(long, void *), void *ctx) {
  if (!t) return;
  tree_walk(t->left, visit, ctx);
  visit(t->key, ctx);
  tree_walk(t->right, visit, ctx);
}

void tree_free(struct tree *t) {
  if (!t) return;
  tree_free(t->left);
  tree_free(t->right);
  free(t);
}
