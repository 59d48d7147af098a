/*
 * forest.c - prediction with an XGBoost multi-class tree ensemble at a few nanoseconds per tree
 * and parcel, giving the probabilities XGBoost gives.
 *
 * Workload: the crop classifier's forests (300 rounds x up to a few dozen classes, depth <= 6,
 * a few dozen numeric features) over millions of parcels. XGBoost's predictor walks each tree
 * node by node for each row, 20-30 ns per tree walk; at 4,800 trees that is 15,000 parcels per
 * second on two cores, where 200,000 are wanted.
 *
 * Method: the trees are scored the QuickScorer way (Lucchese et al. 2015, "QuickScorer: a fast
 * algorithm to rank documents with additive ensembles of regression trees", SIGIR), vectorised
 * over parcels. A tree's leaves are numbered left to right (at most 64, so a bit mask holds
 * them); each internal node keeps the mask of the leaves that are NOT in its left subtree. A
 * parcel starts with every leaf possible; each node whose test sends it right ANDs its mask in;
 * the parcel's exit leaf is then the lowest bit left. Every node is tested (in any order, AND
 * commutes), so there is no dependent walk and no gather: a node loads one feature of a block of
 * parcels with one contiguous vector load, compares it with its threshold and ANDs its mask in,
 * a handful of vector instructions for 16 parcels. The trees have 13 internal nodes on average
 * where a walk visits up to 6, but each costs a fraction of a walk step.
 *
 * Layout: a block of BLOCK parcels is transposed into feature-major floats (one vector of
 * parcels per feature) in two copies that differ only at missing values: NaN becomes -inf in
 * the copy read by the nodes whose default (missing) direction is left and +inf in the other,
 * so that one comparison, x >= threshold goes right, routes a missing value the way XGBoost
 * does (its rule: missing -> the default child, else x < threshold -> left, in float). A node is
 * (offset of its feature's vector in the block, float threshold, 32-bit mask), structure of
 * arrays, trees one after another in the booster's order: about 1 MB for 4,800 trees, streamed
 * from cache once per block. The 2% of trees with more than 32 leaves take a second 32-bit mask
 * and a branch of their own.
 *
 * Same result as XGBoost: features are rounded to float as XGBoost rounds them; each class's
 * margin starts at the model's base_score and adds its trees' leaf values in float in tree
 * order, as XGBoost's CPU predictor does; the softmax is XGBoost's (float exponentials of the
 * margins less their maximum, summed in double, divided in float). The tests check the
 * agreement with XGBoost on trained models, missing values included.
 *
 * Threads: blocks are independent; OpenMP hands them out, and a parcel's probabilities depend on
 * its own features only, whatever the thread count and the block it falls in.
 *
 * Instruction sets: the kernel is written once with GCC's vector types (forest_kernel.h) and
 * compiled three times on x86-64, for AVX-512 (16 lanes), AVX2 (8) and the base set (SSE2, 4),
 * each at the width its registers hold; the widest the CPU runs is chosen when the forest is
 * built, so one binary runs anywhere. All three give the same bits: the same float operations in
 * the same order (no fused multiply-add, no reassociation).
 *
 * The model is read from XGBoost's JSON (XGBoosterSaveModelToBuffer) with a small reader of
 * just what is needed, at load or training time; nothing of it is stored.
 */
#define _POSIX_C_SOURCE 200809L
#include "forest_int.h"

#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omp_int.h"
#include "util_int.h"

#define BLOCK 64                /* parcels per block */
#define MAX_FEATURES (1u << 24) /* keeps a node's offset in 32 bits */
#define MAX_JSON_DEPTH 64

struct parus__forest {
    size_t n_features, n_classes, n_trees, trees_per_round;
    float base_score;
    /* per tree (n_trees; node0 and leaf0 have one more entry, the end) */
    uint32_t *node0, *leaf0;
    uint32_t *cls; /* the tree's class's row in a block's margins: class x BLOCK */
    uint8_t *wide; /* more than 32 leaves: keep_hi is used */
    /* per internal node */
    uint32_t *off; /* (copy * n_features + feature) * BLOCK, copy 1 when missing goes right */
    float *thr;
    uint32_t *keep_lo, *keep_hi; /* leaves 0-31, 32-63 not in the left subtree */
    float *leaf; /* n_leaves, then 64 zeros: the kernels read a tree's first 64 at once */
    size_t n_nodes, n_leaves, cap_trees, cap_nodes, cap_leaves;
    /* the block kernel for this CPU (forest_kernel.h) */
    void (*block)(const struct parus__forest *restrict f, size_t n_trees, const float *restrict xt,
                  float *restrict acc);
};

static void pick_kernel(parus__forest *f);

void parus__forest_free(parus__forest *f)
{
    if (!f)
        return;
    free(f->node0);
    free(f->leaf0);
    free(f->cls);
    free(f->wide);
    free(f->off);
    free(f->thr);
    free(f->keep_lo);
    free(f->keep_hi);
    free(f->leaf);
    free(f);
}

size_t parus__forest_n_rounds(const parus__forest *f)
{
    return f->n_trees / f->trees_per_round;
}

size_t parus__forest_n_trees(const parus__forest *f)
{
    return f->n_trees;
}

/* ---- a JSON reader for XGBoost's model: just objects, arrays, strings and numbers ---- */

typedef struct jreader {
    const char *p, *end; /* *end is NUL */
} jreader;

static void j_ws(jreader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

static bool j_eat(jreader *r, char c)
{
    j_ws(r);
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return true;
    }
    return false;
}

/* A string's raw text (escapes left as written). */
static bool j_string(jreader *r, const char **s, size_t *n)
{
    const char *q;
    j_ws(r);
    if (r->p >= r->end || *r->p != '"')
        return false;
    q = ++r->p;
    while (r->p < r->end && *r->p != '"') {
        if (*r->p == '\\' && r->p + 1 < r->end)
            r->p++;
        r->p++;
    }
    if (r->p >= r->end)
        return false;
    *s = q;
    *n = (size_t)(r->p - q);
    r->p++;
    return true;
}

static bool j_scalar_char(char c)
{
    return c != ',' && c != ':' && c != ']' && c != '}' && c != '[' && c != '{' && c != '"' &&
           c != ' ' && c != '\n' && c != '\r' && c != '\t' && c != '\0';
}

/* Past one value of any kind. */
static bool j_skip(jreader *r)
{
    size_t depth = 0;
    do {
        const char *s;
        size_t n;
        j_ws(r);
        if (r->p >= r->end)
            return false;
        switch (*r->p) {
        case '"':
            if (!j_string(r, &s, &n))
                return false;
            break;
        case '{':
        case '[':
            if (++depth > MAX_JSON_DEPTH)
                return false;
            r->p++;
            break;
        case '}':
        case ']':
            if (depth == 0)
                return false;
            depth--;
            r->p++;
            break;
        case ',':
        case ':':
            if (depth == 0)
                return false;
            r->p++;
            break;
        default:
            s = r->p;
            while (r->p < r->end && j_scalar_char(*r->p))
                r->p++;
            if (r->p == s)
                return false;
        }
    } while (depth > 0);
    return true;
}

/* The next member of an object whose '{' has been read: 1 with its key (the reader at its
 * value), 0 at the closing '}', -1 when malformed. */
static int j_member(jreader *r, const char **key, size_t *n)
{
    if (j_eat(r, '}'))
        return 0;
    j_eat(r, ',');
    if (!j_string(r, key, n) || !j_eat(r, ':'))
        return -1;
    return 1;
}

/* The next element of an array whose '[' has been read: 1 (the reader at it), 0 at ']'. */
static int j_element(jreader *r)
{
    if (j_eat(r, ']'))
        return 0;
    j_eat(r, ',');
    return 1;
}

static bool j_key(const char *key, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(key, want, n) == 0;
}

/* A number, true (1) or false (0). */
static bool j_number(jreader *r, double *v)
{
    char *e;
    j_ws(r);
    if (r->end - r->p >= 4 && memcmp(r->p, "true", 4) == 0) {
        r->p += 4;
        *v = 1;
        return true;
    }
    if (r->end - r->p >= 5 && memcmp(r->p, "false", 5) == 0) {
        r->p += 5;
        *v = 0;
        return true;
    }
    if (r->p >= r->end || !(*r->p == '-' || (*r->p >= '0' && *r->p <= '9')))
        return false;
    *v = strtod(r->p, &e);
    if (e == r->p)
        return false;
    r->p = e;
    return true;
}

/* A number written as a JSON string ("4800", "5E-1": how XGBoost writes its parameters). */
static bool j_number_string(jreader *r, double *v)
{
    const char *s;
    size_t n;
    char buf[64], *e;
    if (!j_string(r, &s, &n) || n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    *v = strtod(buf, &e);
    return *e == '\0' && e != buf;
}

/* Growable arrays of the numbers of one JSON array. */
typedef struct dvec {
    double *v;
    size_t n, cap;
} dvec;

typedef struct fvec {
    float *v;
    size_t n, cap;
} fvec;

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t c = *cap ? *cap : 64, bytes;
    void *np;
    if (need <= *cap)
        return true;
    while (c < need)
        c *= 2;
    if (!parus__mul_size(c, elem, &bytes) || !(np = realloc(*p, bytes)))
        return false;
    *p = np;
    *cap = c;
    return true;
}

/* 1 read, 0 malformed, -1 out of memory. */
static int j_doubles(jreader *r, dvec *d)
{
    int k;
    d->n = 0;
    if (!j_eat(r, '['))
        return 0;
    while ((k = j_element(r)) == 1) {
        if (d->n == d->cap && !grow((void **)&d->v, &d->cap, d->n + 1, sizeof *d->v))
            return -1;
        if (!j_number(r, &d->v[d->n++]))
            return 0;
    }
    return 1;
}

/* Floats parsed as floats (strtof): XGBoost writes each float's shortest exact decimal. */
static int j_floats(jreader *r, fvec *d)
{
    int k;
    d->n = 0;
    if (!j_eat(r, '['))
        return 0;
    while ((k = j_element(r)) == 1) {
        char *e;
        if (d->n == d->cap && !grow((void **)&d->v, &d->cap, d->n + 1, sizeof *d->v))
            return -1;
        j_ws(r);
        d->v[d->n++] = strtof(r->p, &e);
        if (e == r->p)
            return 0;
        r->p = e;
    }
    return 1;
}

/* ---- building ---- */

/* One tree as XGBoost writes it. */
typedef struct xtree {
    dvec left, right, feature, default_left, split_type, categories;
    fvec cond;
    double n_nodes;
} xtree;

typedef struct builder {
    parus__forest *f;
    dvec tree_info;
    xtree t;
    const char *why; /* set when the model is not one the forest represents */
    parus_error *err;
} builder;

static void xtree_release(xtree *t)
{
    free(t->left.v);
    free(t->right.v);
    free(t->feature.v);
    free(t->default_left.v);
    free(t->split_type.v);
    free(t->categories.v);
    free(t->cond.v);
}

/* Reads one tree object into b->t. */
static parus_status read_tree(jreader *r, builder *b)
{
    xtree *t = &b->t;
    const char *key;
    size_t n;
    int k, got = 0;

    t->left.n = t->right.n = t->feature.n = t->default_left.n = t->split_type.n = 0;
    t->categories.n = t->cond.n = 0;
    t->n_nodes = -1;
    if (!j_eat(r, '{'))
        return parus_fail(b->err, PARUS_E_FORMAT, "xgboost model: a tree is not an object");
    while ((k = j_member(r, &key, &n)) == 1) {
        dvec *d = NULL;
        if (j_key(key, n, "left_children"))
            d = &t->left;
        else if (j_key(key, n, "right_children"))
            d = &t->right;
        else if (j_key(key, n, "split_indices"))
            d = &t->feature;
        else if (j_key(key, n, "default_left"))
            d = &t->default_left;
        else if (j_key(key, n, "split_type"))
            d = &t->split_type;
        else if (j_key(key, n, "categories"))
            d = &t->categories;
        if (d)
            got = j_doubles(r, d);
        else if (j_key(key, n, "split_conditions"))
            got = j_floats(r, &t->cond);
        else if (j_key(key, n, "tree_param")) {
            got = j_eat(r, '{');
            while (got && (k = j_member(r, &key, &n)) == 1)
                got = j_key(key, n, "num_nodes") ? j_number_string(r, &t->n_nodes) : j_skip(r);
            got = got && k == 0;
        } else
            got = j_skip(r);
        if (got < 0)
            return parus_fail(b->err, PARUS_E_NOMEM, "out of memory reading the xgboost model");
        if (!got)
            break;
    }
    if (k != 0 || !got)
        return parus_fail(b->err, PARUS_E_FORMAT, "xgboost model: a malformed tree");
    return PARUS_OK;
}

/* A JSON node index: an integer in [-1, n). */
static bool node_index(double v, size_t n, long *out)
{
    if (!(v >= -1 && v < (double)n) || v != floor(v))
        return false;
    *out = (long)v;
    return true;
}

/* Room for trees trees (and the end entry), nodes internal nodes and leaves leaves. */
static bool reserve(parus__forest *f, size_t trees, size_t nodes, size_t leaves)
{
    if (trees + 1 > f->cap_trees) {
        size_t c = f->cap_trees ? 2 * f->cap_trees : 256, k = f->cap_trees;
        if (c < trees + 1)
            c = trees + 1;
        if (!grow((void **)&f->node0, &k, c, sizeof *f->node0) ||
            !grow((void **)&f->leaf0, &(size_t){f->cap_trees}, c, sizeof *f->leaf0) ||
            !grow((void **)&f->cls, &(size_t){f->cap_trees}, c, sizeof *f->cls) ||
            !grow((void **)&f->wide, &(size_t){f->cap_trees}, c, sizeof *f->wide))
            return false;
        f->cap_trees = c;
    }
    if (nodes > f->cap_nodes) {
        size_t c = f->cap_nodes ? 2 * f->cap_nodes : 4096, k = f->cap_nodes;
        if (c < nodes)
            c = nodes;
        if (!grow((void **)&f->off, &k, c, sizeof *f->off) ||
            !grow((void **)&f->thr, &(size_t){f->cap_nodes}, c, sizeof *f->thr) ||
            !grow((void **)&f->keep_lo, &(size_t){f->cap_nodes}, c, sizeof *f->keep_lo) ||
            !grow((void **)&f->keep_hi, &(size_t){f->cap_nodes}, c, sizeof *f->keep_hi))
            return false;
        f->cap_nodes = c;
    }
    if (leaves > f->cap_leaves) {
        size_t c = f->cap_leaves ? 2 * f->cap_leaves : 4096, k = f->cap_leaves;
        if (c < leaves)
            c = leaves;
        if (!grow((void **)&f->leaf, &k, c, sizeof *f->leaf))
            return false;
        f->cap_leaves = c;
    }
    return true;
}

/* Appends b->t to the forest: its internal nodes in depth-first order, its leaves left to
 * right. Sets b->why (and appends nothing) when the tree does not fit the forest. */
static parus_status add_tree(builder *b)
{
    parus__forest *f = b->f;
    const xtree *t = &b->t;
    size_t n = t->left.n, i, n_leaves = 0, sp = 0, id = f->n_trees;
    /* At most one pending entry per internal node on the current path, plus the node being
     * entered; a tree of at most 64 leaves has paths of at most 63 internal nodes. */
    struct {
        long node;
        size_t slot, start;
        bool second;
    } stack[PARUS__FOREST_MAX_LEAVES + 2];
    uint8_t *seen;

    if (!(t->n_nodes >= 1) || t->n_nodes != (double)n || t->right.n != n || t->feature.n != n ||
        t->default_left.n != n || t->cond.n != n || (t->split_type.n && t->split_type.n != n))
        return parus_fail(b->err, PARUS_E_FORMAT,
                          "xgboost model: tree %zu: arrays of different lengths", id);
    for (i = 0; i < t->split_type.n; i++)
        if (t->split_type.v[i] != 0)
            break;
    if (i < t->split_type.n || t->categories.n) {
        b->why = "a categorical split";
        return PARUS_OK;
    }
    /* Node and leaf numbers are 32-bit. */
    if (n > UINT32_MAX - 64 - f->n_leaves || n > UINT32_MAX - f->n_nodes)
        return parus_fail(b->err, PARUS_E_FORMAT, "xgboost model: more than 2^32 nodes");
    if (!reserve(f, id + 1, f->n_nodes + n, f->n_leaves + n + 64) || !(seen = calloc(n, 1)))
        return parus_fail(b->err, PARUS_E_NOMEM, "out of memory reading the xgboost model");
    f->node0[id] = (uint32_t)f->n_nodes;
    f->leaf0[id] = (uint32_t)f->n_leaves;

    stack[sp].node = 0;
    stack[sp++].second = false;
    while (sp > 0) {
        long nd = stack[--sp].node, lc = -1, rc = -1;
        if (stack[sp].second) {
            /* The left subtree is done: its leaves are [start, n_leaves). */
            size_t start = stack[sp].start, w = n_leaves - start;
            uint64_t left = (w >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << w) - 1)) << start;
            f->keep_lo[stack[sp].slot] = (uint32_t)~left;
            f->keep_hi[stack[sp].slot] = (uint32_t)(~left >> 32);
            node_index(t->right.v[nd], n, &rc);
            stack[sp].node = rc;
            stack[sp++].second = false;
            continue;
        }
        if (seen[nd] || !node_index(t->left.v[nd], n, &lc) || !node_index(t->right.v[nd], n, &rc) ||
            (lc < 0) != (rc < 0) || lc == 0 || rc == 0)
            goto out_format;
        seen[nd] = 1;
        if (lc < 0) {
            if (n_leaves == PARUS__FOREST_MAX_LEAVES) {
                b->why = "a tree with more than 64 leaves";
                goto out_undo;
            }
            f->leaf[f->n_leaves++] = t->cond.v[nd];
            n_leaves++;
            continue;
        }
        {
            double feat = t->feature.v[nd];
            float thr = t->cond.v[nd];
            size_t slot = f->n_nodes;
            if (!(feat >= 0 && feat < (double)f->n_features) || feat != floor(feat)) {
                free(seen);
                return parus_fail(b->err, PARUS_E_FORMAT,
                                  "xgboost model: tree %zu splits on feature %g of %zu", id, feat,
                                  f->n_features);
            }
            if (!isfinite(thr)) {
                b->why = "a split at an infinite threshold";
                goto out_undo;
            }
            if (sp + 2 > sizeof stack / sizeof stack[0]) {
                b->why = "a tree with more than 64 leaves";
                goto out_undo;
            }
            /* Missing values read -inf from copy 0 (to the left) and +inf from copy 1. */
            f->off[slot] =
                (uint32_t)(((t->default_left.v[nd] != 0 ? 0 : f->n_features) + (size_t)feat) *
                           BLOCK);
            f->thr[slot] = thr;
            f->n_nodes++;
            stack[sp].node = nd;
            stack[sp].slot = slot;
            stack[sp].start = n_leaves;
            stack[sp++].second = true;
            stack[sp].node = lc;
            stack[sp++].second = false;
        }
    }
    free(seen);
    f->wide[id] = n_leaves > 32;
    f->n_trees++;
    f->node0[f->n_trees] = (uint32_t)f->n_nodes;
    f->leaf0[f->n_trees] = (uint32_t)f->n_leaves;
    return PARUS_OK;

out_undo:
    f->n_nodes = f->node0[id];
    f->n_leaves = f->leaf0[id];
    free(seen);
    return PARUS_OK;
out_format:
    f->n_nodes = f->node0[id];
    f->n_leaves = f->leaf0[id];
    free(seen);
    return parus_fail(b->err, PARUS_E_FORMAT, "xgboost model: tree %zu is not a binary tree", id);
}

/* gradient_booster.model: tree_info, trees, gbtree_model_param.num_parallel_tree. */
static parus_status read_gbtree_model(jreader *r, builder *b, double *n_parallel)
{
    const char *key;
    size_t n;
    int k = -1, got = 1;
    parus_status st;

    if (!j_eat(r, '{'))
        return parus_fail(b->err, PARUS_E_FORMAT, "xgboost model: no tree model");
    while (got > 0 && !b->why && (k = j_member(r, &key, &n)) == 1) {
        if (j_key(key, n, "tree_info")) {
            got = j_doubles(r, &b->tree_info);
        } else if (j_key(key, n, "gbtree_model_param")) {
            got = j_eat(r, '{');
            while (got && (k = j_member(r, &key, &n)) == 1)
                got =
                    j_key(key, n, "num_parallel_tree") ? j_number_string(r, n_parallel) : j_skip(r);
            got = got && k == 0;
        } else if (j_key(key, n, "trees")) {
            if (!j_eat(r, '['))
                got = 0;
            while (got > 0 && !b->why && (k = j_element(r)) == 1) {
                if ((st = read_tree(r, b)) != PARUS_OK || (st = add_tree(b)) != PARUS_OK)
                    return st;
            }
        } else {
            got = j_skip(r);
        }
    }
    if (got < 0)
        return parus_fail(b->err, PARUS_E_NOMEM, "out of memory reading the xgboost model");
    if (!got || (!b->why && k != 0))
        return parus_fail(b->err, PARUS_E_FORMAT, "xgboost model: a malformed tree model");
    return PARUS_OK;
}

/* Reads learner: the booster, its trees, the objective, base_score, num_class, num_feature. */
static parus_status read_learner(jreader *r, builder *b, double *base_score, double *n_class,
                                 double *n_feature, double *n_parallel)
{
    const char *key, *s;
    size_t n, ns;
    int k = -1, got = 1;
    parus_status st;

    if (!j_eat(r, '{'))
        return parus_fail(b->err, PARUS_E_FORMAT, "xgboost model: no learner");
    while (got && !b->why && (k = j_member(r, &key, &n)) == 1) {
        if (j_key(key, n, "gradient_booster")) {
            got = j_eat(r, '{');
            while (got && !b->why && (k = j_member(r, &key, &n)) == 1) {
                if (j_key(key, n, "name")) {
                    got = j_string(r, &s, &ns);
                    if (got && !j_key(s, ns, "gbtree"))
                        b->why = "a booster other than gbtree";
                } else if (j_key(key, n, "model")) {
                    if ((st = read_gbtree_model(r, b, n_parallel)) != PARUS_OK)
                        return st;
                } else {
                    got = j_skip(r);
                }
            }
            got = got && (b->why || k == 0);
        } else if (j_key(key, n, "learner_model_param")) {
            got = j_eat(r, '{');
            while (got && (k = j_member(r, &key, &n)) == 1) {
                if (j_key(key, n, "base_score")) {
                    /* XGBoost 3.1 and later write one base score per class, "[...]". */
                    j_ws(r);
                    if (r->end - r->p >= 2 && r->p[0] == '"' && r->p[1] == '[') {
                        b->why = "a base score per class";
                        got = j_skip(r);
                    } else {
                        got = j_number_string(r, base_score);
                    }
                } else if (j_key(key, n, "num_class"))
                    got = j_number_string(r, n_class);
                else if (j_key(key, n, "num_feature"))
                    got = j_number_string(r, n_feature);
                else if (j_key(key, n, "num_target")) {
                    double nt;
                    got = j_number_string(r, &nt);
                    if (got && nt != 1)
                        b->why = "a model with several targets";
                } else
                    got = j_skip(r);
            }
            got = got && k == 0;
        } else if (j_key(key, n, "objective")) {
            got = j_eat(r, '{');
            while (got && (k = j_member(r, &key, &n)) == 1) {
                if (j_key(key, n, "name")) {
                    got = j_string(r, &s, &ns);
                    if (got && !j_key(s, ns, "multi:softprob"))
                        b->why = "an objective other than multi:softprob";
                } else {
                    got = j_skip(r);
                }
            }
            got = got && k == 0;
        } else {
            got = j_skip(r);
        }
    }
    if (!got || (!b->why && k != 0))
        return parus_fail(b->err, PARUS_E_FORMAT, "xgboost model: a malformed learner");
    return PARUS_OK;
}

static parus_status read_model(jreader *r, builder *b)
{
    parus__forest *f = b->f;
    const char *key;
    size_t n, i;
    int k = -1;
    double base_score = (double)NAN, n_class = -1, n_feature = -1, n_parallel = 1;
    bool have_learner = false;
    parus_status st;

    if (!j_eat(r, '{'))
        return parus_fail(b->err, PARUS_E_FORMAT, "xgboost model: not a JSON object");
    while (!b->why && (k = j_member(r, &key, &n)) == 1) {
        if (j_key(key, n, "learner")) {
            if ((st = read_learner(r, b, &base_score, &n_class, &n_feature, &n_parallel)) !=
                PARUS_OK)
                return st;
            have_learner = true;
        } else if (!j_skip(r)) {
            k = -1;
            break;
        }
    }
    if (b->why)
        return PARUS_OK;
    if (k != 0 || !have_learner)
        return parus_fail(b->err, PARUS_E_FORMAT, "xgboost model: no learner");
    if (n_class != (double)f->n_classes || n_feature != (double)f->n_features)
        return parus_fail(b->err, PARUS_E_FORMAT,
                          "xgboost model: %g classes and %g features, the model has %zu and %zu",
                          n_class, n_feature, f->n_classes, f->n_features);
    if (!isfinite(base_score) || !(n_parallel >= 1 && n_parallel <= 1e6))
        return parus_fail(b->err, PARUS_E_FORMAT,
                          "xgboost model: no base score or trees per round");
    f->base_score = (float)base_score;
    f->trees_per_round = f->n_classes * (size_t)n_parallel;
    if (f->n_trees == 0 || f->n_trees % f->trees_per_round != 0 || b->tree_info.n != f->n_trees)
        return parus_fail(b->err, PARUS_E_FORMAT,
                          "xgboost model: %zu trees for %zu classes and %zu tree infos", f->n_trees,
                          f->n_classes, b->tree_info.n);
    for (i = 0; i < f->n_trees; i++) {
        double c = b->tree_info.v[i];
        if (!(c >= 0 && c < (double)f->n_classes) || c != floor(c))
            return parus_fail(b->err, PARUS_E_FORMAT, "xgboost model: tree %zu of class %g", i, c);
        f->cls[i] = (uint32_t)c * BLOCK;
    }
    return PARUS_OK;
}

parus_status parus__forest_from_json(const char *json, size_t len, size_t n_features,
                                     size_t n_classes, parus__forest **out, const char **why,
                                     parus_error *err)
{
    builder b;
    jreader r;
    char *text;
    locale_t c_locale, old = (locale_t)0;
    parus_status st;

    if (!json || !out)
        return parus_fail(err, PARUS_E_INVALID, "forest: missing argument");
    if (n_features == 0 || n_features > MAX_FEATURES || n_classes < 2 ||
        n_classes > UINT32_MAX / BLOCK)
        return parus_fail(err, PARUS_E_INVALID, "forest: %zu features and %zu classes", n_features,
                          n_classes);
    memset(&b, 0, sizeof b);
    b.err = err;
    text = len < SIZE_MAX ? malloc(len + 1) : NULL;
    if (!text || !(b.f = calloc(1, sizeof *b.f))) {
        free(text);
        return parus_fail(err, PARUS_E_NOMEM, "out of memory reading the xgboost model");
    }
    memcpy(text, json, len);
    text[len] = '\0';
    r.p = text;
    r.end = text + len;
    b.f->n_features = n_features;
    b.f->n_classes = n_classes;
    /* strtod and strtof read the decimal point of the thread's locale: use "C" while parsing. */
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c_locale)
        old = uselocale(c_locale);
    st = read_model(&r, &b);
    if (c_locale) {
        uselocale(old);
        freelocale(c_locale);
    }
    free(text);
    free(b.tree_info.v);
    xtree_release(&b.t);
    if (st != PARUS_OK || b.why) {
        parus__forest_free(b.f);
        if (st == PARUS_OK) {
            *out = NULL;
            if (why)
                *why = b.why;
        }
        return st;
    }
    /* The kernel reads up to 64 leaves from a tree's first: zeros past the last tree. */
    memset(b.f->leaf + b.f->n_leaves, 0, 64 * sizeof *b.f->leaf);
    pick_kernel(b.f);
    *out = b.f;
    if (why)
        *why = NULL;
    return PARUS_OK;
}

/* ---- prediction ---- */

/* The block kernels: AVX-512, AVX2 and the base x86-64 set (SSE2); elsewhere the generic
 * 4-lane one. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FOREST_X86 1
#define FK_NAME block_avx512
#define FK_LANES 16
#define FK_ATTR __attribute__((target("avx512f")))
#define FK_PERMUTE 1
#include "forest_kernel.h"
#undef FK_NAME
#undef FK_LANES
#undef FK_ATTR
#undef FK_PERMUTE
#define FK_NAME block_avx2
#define FK_LANES 8
#define FK_ATTR __attribute__((target("avx2")))
#define FK_PERMUTE 0
#include "forest_kernel.h"
#undef FK_NAME
#undef FK_LANES
#undef FK_ATTR
#undef FK_PERMUTE
#else
#define FOREST_X86 0
#endif
#define FK_NAME block_base
#define FK_LANES 4
#define FK_ATTR
#define FK_PERMUTE 0
#include "forest_kernel.h"
#undef FK_NAME
#undef FK_LANES
#undef FK_ATTR
#undef FK_PERMUTE

/* The widest kernel this CPU runs, no wider than PARUS_FOREST_ISA says ("avx512", "avx2",
 * "base"; for comparing them on one machine). */
static void pick_kernel(parus__forest *f)
{
    const char *cap = getenv("PARUS_FOREST_ISA");
    f->block = block_base;
#if FOREST_X86
    __builtin_cpu_init();
    if (cap && strcmp(cap, "base") == 0)
        return;
    if (__builtin_cpu_supports("avx512f") && !(cap && strcmp(cap, "avx2") == 0))
        f->block = block_avx512;
    else if (__builtin_cpu_supports("avx2"))
        f->block = block_avx2;
#else
    (void)cap;
#endif
}

/* Rows [r0, r0 + n) of x, n <= BLOCK, into the block's two feature-major copies; the block's
 * unused lanes repeat the last row. */
static void fill_block(const double *x, size_t n_features, size_t r0, size_t n, float *xt)
{
    size_t i, j;
    for (i = 0; i < BLOCK; i++) {
        const double *row = x + (r0 + (i < n ? i : n - 1)) * n_features;
        for (j = 0; j < n_features; j++) {
            float v = (float)row[j];
            xt[j * BLOCK + i] = isnan(v) ? -INFINITY : v;
            xt[(n_features + j) * BLOCK + i] = isnan(v) ? INFINITY : v;
        }
    }
}

/* XGBoost's softmax (common::Softmax): float exponentials less the maximum, a double sum, a
 * float division. */
static void softmax_row(const float *acc, size_t lane, size_t n_classes, float *tmp, double *prob)
{
    size_t c;
    float wmax = acc[lane];
    double wsum = 0;
    for (c = 1; c < n_classes; c++)
        wmax = fmaxf(acc[c * BLOCK + lane], wmax);
    for (c = 0; c < n_classes; c++) {
        tmp[c] = expf(acc[c * BLOCK + lane] - wmax);
        wsum += (double)tmp[c];
    }
    for (c = 0; c < n_classes; c++)
        prob[c] = (double)(tmp[c] / (float)wsum);
}

parus_status parus__forest_predict(const parus__forest *f, const double *x, size_t n,
                                   size_t n_rounds, int n_threads, double *prob, parus_error *err)
{
    size_t n_trees, n_blocks, per_thread, bytes, b;
    int nt;
    float *scratch;

    if (!f || (n && (!x || !prob)) || n_threads < 0)
        return parus_fail(err, PARUS_E_INVALID, "forest predict: missing argument");
    if (n_rounds > parus__forest_n_rounds(f))
        return parus_fail(err, PARUS_E_INVALID, "forest predict: %zu rounds of %zu", n_rounds,
                          parus__forest_n_rounds(f));
    if (n == 0)
        return PARUS_OK;
    n_trees = n_rounds ? n_rounds * f->trees_per_round : f->n_trees;
    n_blocks = n / BLOCK + (n % BLOCK != 0);
    nt = n_threads > 0 ? n_threads : parus__omp_max_threads();
    if ((size_t)nt > n_blocks)
        nt = (int)n_blocks;
    /* Per thread: the block's features, its margins and a softmax row, in whole cache lines. */
    per_thread = (2 * f->n_features + f->n_classes) * BLOCK + (f->n_classes + 15) / 16 * 16;
    if (!parus__mul_size(per_thread, (size_t)nt * sizeof(float), &bytes) ||
        !(scratch = aligned_alloc(64, bytes)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory predicting");
    PARUS_OMP(parallel for num_threads(nt) schedule(dynamic, 1))
    for (b = 0; b < n_blocks; b++) {
        float *xt = scratch + (size_t)parus__omp_thread() * per_thread;
        float *acc = xt + 2 * f->n_features * BLOCK, *tmp = acc + f->n_classes * BLOCK;
        size_t r0 = b * BLOCK, m = n - r0 < BLOCK ? n - r0 : BLOCK, i;
        fill_block(x, f->n_features, r0, m, xt);
        for (i = 0; i < f->n_classes * BLOCK; i++)
            acc[i] = f->base_score;
        f->block(f, n_trees, xt, acc);
        for (i = 0; i < m; i++)
            softmax_row(acc, i, f->n_classes, tmp, prob + (r0 + i) * f->n_classes);
    }
    free(scratch);
    return PARUS_OK;
}
