/*
 * xgbcheck.c - a check of an XGBoost model's bytes before XGBoost reads them.
 *
 * Why: XGBoost's model reader (1.7, Debian 12's libxgboost) trusts what it reads. A string or
 * array count is allocated as announced (2^54 bytes for a damaged count), a tree's parent index
 * is used to index its nodes (RegTree::LoadModel: an index past the nodes is a read out of
 * bounds, a SEGV), and later its predictor follows child indices and split features without a
 * check (a child past the nodes, a cycle that never ends, a feature past the row). A damaged or
 * hostile model file must be refused by parus with a reason, never crash it or loop. Both were
 * found by fuzzing the model loader (fuzz/fuzz_model.c); the inputs are in fuzz/corpus/model/.
 *
 * What: first the UBJSON itself (ubjson.org, draft 12: values Z N T F, integers i U I l L, floats
 * d D, C, strings S and H as a length and bytes, arrays '[' and objects '{' with an optional type
 * '$' and count '#', object keys a length and bytes without a marker): every count and length
 * must fit in the bytes that are left, nesting at most UBJ_MAX_DEPTH deep. Then the document
 * against XGBoost's model schema (doc/model.schema, "Introduction to Model IO") as far as XGBoost
 * trusts it, and as a parus model has it:
 *   - learner.learner_model_param: num_class and num_feature equal the class and feature lists
 *     of the parus file, base_score a finite float, num_target 1 when given;
 *   - the objective multi:softprob (its num_class, when given, the same), the booster gbtree;
 *   - gbtree_model_param: num_trees equals the length of trees and of tree_info, a whole number
 *     of rounds of num_class x num_parallel_tree trees, size_leaf_vector 0; each tree_info entry
 *     a class;
 *   - each tree: id its position; tree_param num_nodes >= 1, num_deleted 0, size_leaf_vector 0,
 *     num_feature that of the learner; every node array (loss_changes, sum_hessian,
 *     base_weights, left_children, right_children, parents, split_indices, split_conditions,
 *     default_left, split_type) num_nodes long; no categorical split (split_type 0, the category
 *     arrays empty); each split feature < num_feature; a leaf has children -1 and -1; an internal
 *     node's left child is a node, its right child the next one (XGBoost's predictor takes the
 *     right child as left + 1), both name it as their parent; the root's parent is -1 (or
 *     2^31 - 1, as XGBoost 1.7 writes it); every node is reached once from the root (no cycle,
 *     no node outside the tree).
 * Object keys looked up must appear once. Numbers in strings (XGBoost writes parameters as
 * strings) are plain decimal digits. Only UBJSON is accepted in a parus model file; XGBoost's
 * JSON comes only from XGBoost itself (the forest, forest.c, reads it after the load).
 *
 * Cost: one pass over the bytes, plus one pass per tree; a 300-round, 10-class model (about
 * 1.5 MB) is checked in a few milliseconds, well below XGBoost's own load.
 */
#define _POSIX_C_SOURCE 200809L
#include "xgbcheck_int.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UBJ_MAX_DEPTH 128
#define MAX_NODES ((uint64_t)INT32_MAX - 1)
#define ROOT_PARENT_17 INT64_C(2147483647) /* kInvalidNodeId & 0x7fffffff, XGBoost 1.7's root */

/* ---- UBJSON well-formedness ---- */

typedef struct ubj {
    const unsigned char *p, *end;
} ubj;

/* Bytes of a fixed-size value of marker m, or -1 when m is not one. */
static int ubj_fixed_size(unsigned char m)
{
    switch (m) {
    case 'Z':
    case 'N':
    case 'T':
    case 'F':
        return 0;
    case 'i':
    case 'U':
    case 'C':
        return 1;
    case 'I':
        return 2;
    case 'l':
    case 'd':
        return 4;
    case 'L':
    case 'D':
        return 8;
    default:
        return -1;
    }
}

static bool is_int_marker(unsigned char m)
{
    return m == 'i' || m == 'U' || m == 'I' || m == 'l' || m == 'L';
}

/* An integer of marker m at p (big-endian, signed but for 'U'); p has its bytes. */
static int64_t int_at(const unsigned char *p, unsigned char m)
{
    int size = ubj_fixed_size(m), i;
    uint64_t v = (m != 'U' && (p[0] & 0x80)) ? ~(uint64_t)0 : 0;
    for (i = 0; i < size; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

/* An integer of marker m as a count or length: false when it is not an integer marker, is
 * negative, or runs past the end. */
static bool ubj_count(ubj *u, unsigned char m, uint64_t *out)
{
    int size = ubj_fixed_size(m);
    int64_t v;
    if (!is_int_marker(m) || (size_t)(u->end - u->p) < (size_t)size)
        return false;
    v = int_at(u->p, m);
    if (v < 0)
        return false;
    u->p += size;
    *out = (uint64_t)v;
    return true;
}

/* A count or length with its own marker, at most the bytes left (each element or byte takes at
 * least one). */
static bool ubj_length(ubj *u, uint64_t *out)
{
    if (u->p >= u->end || !ubj_count(u, *u->p++, out))
        return false;
    return *out <= (uint64_t)(u->end - u->p);
}

/* A container's header after '[' or '{': its element type (0: each has a marker) and count
 * (counted false: up to the closing bracket). */
static bool ubj_header(ubj *u, unsigned char *type, bool *counted, uint64_t *n)
{
    *type = 0;
    *counted = false;
    *n = 0;
    if (u->p < u->end && *u->p == '$') {
        if (u->end - u->p < 2)
            return false;
        *type = u->p[1];
        u->p += 2;
        if (u->p >= u->end || *u->p != '#')
            return false; /* a type needs a count */
    }
    if (u->p < u->end && *u->p == '#') {
        u->p++;
        if (!ubj_length(u, n))
            return false;
        *counted = true;
    }
    return true;
}

static bool ubj_value(ubj *u, unsigned char m, int depth);

/* The rest of an array ('[' read) or object ('{' read). */
static bool ubj_container(ubj *u, bool object, int depth)
{
    unsigned char type;
    bool counted;
    uint64_t n, i;
    if (depth > UBJ_MAX_DEPTH || !ubj_header(u, &type, &counted, &n))
        return false;
    if (!object && type && ubj_fixed_size(type) >= 0) {
        /* a typed array of fixed-size values (XGBoost's node arrays): skipped at once */
        uint64_t size = (uint64_t)ubj_fixed_size(type);
        if (size && n > (uint64_t)(u->end - u->p) / size)
            return false;
        u->p += n * size;
        return true;
    }
    for (i = 0; !counted || i < n; i++) {
        uint64_t key_len;
        if (u->p >= u->end)
            return false;
        if (!counted && *u->p == (object ? '}' : ']')) {
            u->p++;
            return true;
        }
        if (object) {
            if (!ubj_length(u, &key_len))
                return false;
            u->p += key_len;
        }
        if (type) {
            if (!ubj_value(u, type, depth + 1))
                return false;
        } else if (u->p >= u->end || !ubj_value(u, *u->p++, depth + 1)) {
            return false;
        }
    }
    return true;
}

/* Skips the value of marker m (read) at u->p: false when it is not well-formed. */
static bool ubj_value(ubj *u, unsigned char m, int depth)
{
    int size = ubj_fixed_size(m);
    uint64_t len;
    if (size >= 0) {
        if ((size_t)(u->end - u->p) < (size_t)size)
            return false;
        u->p += size;
        return true;
    }
    switch (m) {
    case 'S':
    case 'H':
        if (!ubj_length(u, &len))
            return false;
        u->p += len;
        return true;
    case '[':
        return ubj_container(u, false, depth);
    case '{':
        return ubj_container(u, true, depth);
    default:
        return false;
    }
}

/* ---- reading the (well-formed) document ---- */

/* A value: its marker and its bytes after the marker, up to the end of the document. */
typedef struct uval {
    unsigned char m;
    const unsigned char *p, *end;
} uval;

/* The elements of an array or the members of an object, in order. */
typedef struct uiter {
    ubj u;
    unsigned char type;
    bool counted, object;
    uint64_t n, i;
} uiter;

static bool iter_init(uiter *it, const uval *v, bool object)
{
    if (v->m != (object ? '{' : '['))
        return false;
    it->u.p = v->p;
    it->u.end = v->end;
    it->object = object;
    it->i = 0;
    return ubj_header(&it->u, &it->type, &it->counted, &it->n);
}

/* The next element (key and key_len for an object's member; may be NULL for an array): false
 * at the end. The document was checked well-formed, so nothing here runs past it. */
static bool iter_next(uiter *it, const unsigned char **key, size_t *key_len, uval *out)
{
    ubj *u = &it->u;
    uint64_t len = 0;
    if (it->counted ? it->i == it->n : (u->p >= u->end || *u->p == (it->object ? '}' : ']')))
        return false;
    if (it->object) {
        if (!ubj_length(u, &len))
            return false;
        if (key) {
            *key = u->p;
            *key_len = (size_t)len;
        }
        u->p += len;
    }
    if (it->type) {
        out->m = it->type;
    } else {
        if (u->p >= u->end)
            return false;
        out->m = *u->p++;
    }
    out->p = u->p;
    out->end = u->end;
    if (!ubj_value(u, out->m, 0))
        return false;
    it->i++;
    return true;
}

/* Number of elements of an array (false when v is not one). */
static bool array_length(const uval *v, uint64_t *n)
{
    uiter it;
    uval e;
    if (!iter_init(&it, v, false))
        return false;
    if (it.counted) {
        *n = it.n;
        return true;
    }
    *n = 0;
    while (iter_next(&it, NULL, NULL, &e))
        (*n)++;
    return true;
}

/* Member key of object v: 1 found (once), 0 absent, -1 present more than once or v is not an
 * object. */
static int member(const uval *v, const char *key, uval *out)
{
    uiter it;
    const unsigned char *k;
    size_t k_len, want = strlen(key);
    uval e;
    int found = 0;
    if (!iter_init(&it, v, true))
        return -1;
    while (iter_next(&it, &k, &k_len, &e))
        if (k_len == want && memcmp(k, key, want) == 0) {
            if (found)
                return -1;
            *out = e;
            found = 1;
        }
    return found;
}

static bool get_int(const uval *v, int64_t *out)
{
    if (!is_int_marker(v->m))
        return false;
    *out = int_at(v->p, v->m);
    return true;
}

/* A string value's bytes (S, or C for one character). */
static bool get_str(const uval *v, const unsigned char **s, size_t *len)
{
    ubj u;
    uint64_t n;
    if (v->m == 'C') {
        *s = v->p;
        *len = 1;
        return true;
    }
    if (v->m != 'S')
        return false;
    u.p = v->p;
    u.end = v->end;
    if (!ubj_length(&u, &n))
        return false;
    *s = u.p;
    *len = (size_t)n;
    return true;
}

static bool str_is(const uval *v, const char *lit)
{
    const unsigned char *s;
    size_t len;
    return get_str(v, &s, &len) && len == strlen(lit) && memcmp(s, lit, len) == 0;
}

/* A string of 1-18 decimal digits (XGBoost writes its counts so). */
static bool str_count(const uval *v, uint64_t *out)
{
    const unsigned char *s;
    size_t len, i;
    uint64_t n = 0;
    if (!get_str(v, &s, &len) || len == 0 || len > 18)
        return false;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        n = n * 10 + (uint64_t)(s[i] - '0');
    }
    *out = n;
    return true;
}

/* A string that is a decimal number ([-+]digits[.digits][(e|E)[-+]digits]) finite as a float. */
static bool str_float(const uval *v, double *out)
{
    const unsigned char *s;
    size_t len, i = 0, digits = 0;
    char buf[64], *end;
    double x;
    locale_t c_locale, old = (locale_t)0;
    if (!get_str(v, &s, &len) || len == 0 || len >= sizeof buf)
        return false;
    if (s[i] == '-' || s[i] == '+')
        i++;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (i < len && s[i] == '.')
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp_digits = 0;
        if (++i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            exp_digits++;
        if (exp_digits == 0)
            return false;
    }
    if (i != len)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    /* strtod reads the decimal point of the thread's locale: "C" while reading */
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c_locale)
        old = uselocale(c_locale);
    x = strtod(buf, &end);
    if (c_locale) {
        uselocale(old);
        freelocale(c_locale);
    }
    if (*end != '\0' || !isfinite(x) || fabs(x) > 3.0e38)
        return false;
    *out = x;
    return true;
}

/* ---- the checks ---- */

typedef struct checker {
    char *why;
    size_t why_size;
    uint64_t n_features, n_classes;
    /* one tree's nodes, reused from tree to tree */
    int64_t *left, *right, *parent, *feature;
    uint64_t *stack;
    unsigned char *seen;
    uint64_t cap;
    bool nomem;
} checker;

static bool bad(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool bad(checker *c, const char *fmt, ...)
{
    va_list ap;
    if (c->why_size) {
        va_start(ap, fmt);
        vsnprintf(c->why, c->why_size, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* Member key of v, which must be there once. */
static bool need(checker *c, const uval *v, const char *where, const char *key, uval *out)
{
    int r = member(v, key, out);
    if (r == 1)
        return true;
    return bad(c, "%s%s'%s' %s", where, *where ? ": " : "", key,
               r == 0 ? "is missing" : "appears twice (or its parent is not an object)");
}

/* A parameter that is a count in a string. */
static bool need_count(checker *c, const uval *obj, const char *where, const char *key,
                       uint64_t *out)
{
    uval v;
    if (!need(c, obj, where, key, &v))
        return false;
    if (!str_count(&v, out))
        return bad(c, "%s: '%s' is not a count", where, key);
    return true;
}

/* An optional string parameter that, when present, must be lit. */
static bool optional_is(const uval *obj, const char *key, const char *lit)
{
    uval v;
    int r = member(obj, key, &v);
    return r == 0 || (r == 1 && str_is(&v, lit));
}

static bool grow(checker *c, uint64_t n)
{
    size_t k;
    if (n <= c->cap)
        return true;
    k = (size_t)n;
    free(c->left);
    free(c->right);
    free(c->parent);
    free(c->feature);
    free(c->stack);
    free(c->seen);
    c->left = malloc(k * sizeof *c->left);
    c->right = malloc(k * sizeof *c->right);
    c->parent = malloc(k * sizeof *c->parent);
    c->feature = malloc(k * sizeof *c->feature);
    c->stack = malloc(k * sizeof *c->stack);
    c->seen = malloc(k);
    c->cap = n;
    if (!c->left || !c->right || !c->parent || !c->feature || !c->stack || !c->seen) {
        c->cap = 0;
        c->nomem = true;
        return bad(c, "out of memory checking it");
    }
    return true;
}

/* Node array key of tree t: n_nodes long; its integers into out when out is not NULL. */
static bool node_array(checker *c, const uval *tree, size_t t, const char *key, uint64_t n_nodes,
                       int64_t *out)
{
    uval v, e;
    uiter it;
    uint64_t n, i = 0;
    char where[48];
    snprintf(where, sizeof where, "tree %zu", t);
    if (!need(c, tree, where, key, &v))
        return false;
    if (!array_length(&v, &n))
        return bad(c, "tree %zu: '%s' is not an array", t, key);
    if (n != n_nodes)
        return bad(c, "tree %zu: '%s' has %llu entries for %llu nodes", t, key,
                   (unsigned long long)n, (unsigned long long)n_nodes);
    if (!out)
        return true;
    iter_init(&it, &v, false);
    while (iter_next(&it, NULL, NULL, &e)) {
        if (!get_int(&e, &out[i]))
            return bad(c, "tree %zu: '%s' entry %llu is not an integer", t, key,
                       (unsigned long long)i);
        i++;
    }
    return true;
}

/* An optional array of tree t that must be empty when present. */
static bool empty_if_present(checker *c, const uval *tree, size_t t, const char *key)
{
    uval v;
    uint64_t n;
    int r = member(tree, key, &v);
    if (r == 0)
        return true;
    if (r < 0 || !array_length(&v, &n))
        return bad(c, "tree %zu: '%s' is not one array", t, key);
    if (n != 0)
        return bad(c, "tree %zu: a categorical split ('%s' is not empty); parus models have none",
                   t, key);
    return true;
}

static bool check_tree(checker *c, const uval *tree, size_t t)
{
    uval param, v;
    uint64_t n, count, i, sp = 0, n_seen = 0;
    int64_t id;
    char where[48];
    static const char *const other_arrays[] = {"loss_changes", "sum_hessian", "base_weights",
                                               "split_conditions", "default_left"};
    snprintf(where, sizeof where, "tree %zu", t);
    if (tree->m != '{')
        return bad(c, "%s is not an object", where);
    if (!need(c, tree, where, "id", &v))
        return false;
    if (!get_int(&v, &id) || id < 0 || (uint64_t)id != t)
        return bad(c, "%s has the id of another tree", where);
    if (!need(c, tree, where, "tree_param", &param))
        return false;
    snprintf(where, sizeof where, "tree %zu: tree_param", t);
    if (!need_count(c, &param, where, "num_nodes", &n))
        return false;
    if (n < 1 || n > MAX_NODES)
        return bad(c, "tree %zu has %llu nodes", t, (unsigned long long)n);
    if (!need_count(c, &param, where, "num_deleted", &count))
        return false;
    if (count != 0)
        return bad(c, "tree %zu has deleted nodes; parus models have none", t);
    if (!need_count(c, &param, where, "num_feature", &count))
        return false;
    if (count != c->n_features)
        return bad(c, "tree %zu is for %llu features, the model for %llu", t,
                   (unsigned long long)count, (unsigned long long)c->n_features);
    if (!optional_is(&param, "size_leaf_vector", "0"))
        return bad(c, "tree %zu has leaf vectors; parus models have none", t);
    for (i = 0; i < sizeof other_arrays / sizeof other_arrays[0]; i++)
        if (!node_array(c, tree, t, other_arrays[i], n, NULL))
            return false;
    /* every array XGBoost indexes by node is now known to be n long: n fits its bytes */
    if (!grow(c, n) || !node_array(c, tree, t, "left_children", n, c->left) ||
        !node_array(c, tree, t, "right_children", n, c->right) ||
        !node_array(c, tree, t, "parents", n, c->parent) ||
        !node_array(c, tree, t, "split_indices", n, c->feature))
        return false;
    switch (member(tree, "split_type", &v)) {
    case 1:
        if (!node_array(c, tree, t, "split_type", n, NULL))
            return false;
        {
            uiter it;
            uval e;
            int64_t type;
            iter_init(&it, &v, false);
            while (iter_next(&it, NULL, NULL, &e))
                if (!get_int(&e, &type) || type != 0)
                    return bad(c,
                               "tree %zu: a categorical split (split_type not 0); parus "
                               "models have none",
                               t);
        }
        /* XGBoost then reads the category arrays: they must be there, and empty */
        {
            static const char *const cat_arrays[] = {"categories", "categories_nodes",
                                                     "categories_segments", "categories_sizes"};
            for (i = 0; i < sizeof cat_arrays / sizeof cat_arrays[0]; i++)
                if (member(tree, cat_arrays[i], &v) != 1)
                    return bad(c, "tree %zu: '%s' is missing", t, cat_arrays[i]);
        }
        break;
    case 0:
        break;
    default:
        return bad(c, "tree %zu: 'split_type' appears twice", t);
    }
    if (!empty_if_present(c, tree, t, "categories") ||
        !empty_if_present(c, tree, t, "categories_nodes") ||
        !empty_if_present(c, tree, t, "categories_segments") ||
        !empty_if_present(c, tree, t, "categories_sizes"))
        return false;

    for (i = 0; i < n; i++) {
        int64_t p = c->parent[i], f = c->feature[i];
        if (f < 0 || (uint64_t)f >= c->n_features)
            return bad(c, "tree %zu: node %llu splits on feature %lld of %llu", t,
                       (unsigned long long)i, (long long)f, (unsigned long long)c->n_features);
        if (i == 0 ? (p != -1 && p != ROOT_PARENT_17) : (p < 0 || (uint64_t)p >= n))
            return bad(c, "tree %zu: node %llu's parent %lld is not %s", t, (unsigned long long)i,
                       (long long)p, i == 0 ? "-1 (the root has none)" : "a node of the tree");
    }
    for (i = 0; i < n; i++) {
        int64_t l = c->left[i], r = c->right[i];
        if (l == -1 && r == -1)
            continue;
        if (l < 1 || (uint64_t)l >= n)
            return bad(c, "tree %zu: node %llu's left child %lld is not a node of the tree", t,
                       (unsigned long long)i, (long long)l);
        if (r != l + 1 || (uint64_t)r >= n)
            return bad(c,
                       "tree %zu: node %llu's right child %lld does not follow its left child "
                       "%lld",
                       t, (unsigned long long)i, (long long)r, (long long)l);
        if ((uint64_t)c->parent[l] != i || (uint64_t)c->parent[r] != i)
            return bad(c, "tree %zu: node %llu's children do not name it as their parent", t,
                       (unsigned long long)i);
    }
    /* every node reached once from the root: no cycle, nothing outside the tree */
    memset(c->seen, 0, (size_t)n);
    c->stack[sp++] = 0;
    while (sp > 0) {
        uint64_t nd = c->stack[--sp];
        if (c->seen[nd])
            return bad(c, "tree %zu: node %llu is reached twice (a cycle)", t,
                       (unsigned long long)nd);
        c->seen[nd] = 1;
        n_seen++;
        if (c->left[nd] != -1) {
            if (sp + 2 > n)
                return bad(c, "tree %zu: more children than nodes", t);
            c->stack[sp++] = (uint64_t)c->right[nd];
            c->stack[sp++] = (uint64_t)c->left[nd];
        }
    }
    if (n_seen != n)
        return bad(c, "tree %zu: %llu of its %llu nodes are not reached from the root", t,
                   (unsigned long long)(n - n_seen), (unsigned long long)n);
    return true;
}

static bool check_booster(checker *c, const uval *gb)
{
    uval model, param, trees, info, v;
    uiter it;
    uint64_t n_trees, n_parallel, n_info, n, t = 0;
    int64_t cls;
    if (!need(c, gb, "gradient_booster", "name", &v))
        return false;
    if (!str_is(&v, "gbtree"))
        return bad(c, "the booster is not gbtree; parus models are");
    if (!need(c, gb, "gradient_booster", "model", &model) ||
        !need(c, &model, "gradient_booster.model", "gbtree_model_param", &param) ||
        !need_count(c, &param, "gbtree_model_param", "num_trees", &n_trees) ||
        !need_count(c, &param, "gbtree_model_param", "num_parallel_tree", &n_parallel))
        return false;
    if (!optional_is(&param, "size_leaf_vector", "0"))
        return bad(c, "gbtree_model_param: size_leaf_vector is not 0");
    if (n_parallel < 1 || n_parallel > 1000000)
        return bad(c, "gbtree_model_param: num_parallel_tree is %llu",
                   (unsigned long long)n_parallel);
    if (!need(c, &model, "gradient_booster.model", "trees", &trees) ||
        !need(c, &model, "gradient_booster.model", "tree_info", &info))
        return false;
    if (!array_length(&trees, &n) || !array_length(&info, &n_info))
        return bad(c, "'trees' or 'tree_info' is not an array");
    if (n != n_trees || n_info != n_trees)
        return bad(c, "num_trees is %llu, with %llu trees and %llu tree_info entries",
                   (unsigned long long)n_trees, (unsigned long long)n, (unsigned long long)n_info);
    if (n_trees == 0 || n_trees % (c->n_classes * n_parallel) != 0)
        return bad(c, "%llu trees are not whole rounds of %llu classes x %llu parallel trees",
                   (unsigned long long)n_trees, (unsigned long long)c->n_classes,
                   (unsigned long long)n_parallel);
    iter_init(&it, &info, false);
    while (iter_next(&it, NULL, NULL, &v)) {
        if (!get_int(&v, &cls) || cls < 0 || (uint64_t)cls >= c->n_classes)
            return bad(c, "tree_info entry %llu is not a class of %llu", (unsigned long long)t,
                       (unsigned long long)c->n_classes);
        t++;
    }
    t = 0;
    iter_init(&it, &trees, false);
    while (iter_next(&it, NULL, NULL, &v)) {
        if (!check_tree(c, &v, (size_t)t))
            return false;
        t++;
    }
    return true;
}

static bool check_learner(checker *c, const uval *root)
{
    uval learner, param, obj, gb, v;
    uint64_t count;
    double base_score;
    if (root->m != '{')
        return bad(c, "it is not an object");
    if (!need(c, root, "", "learner", &learner) ||
        !need(c, &learner, "learner", "learner_model_param", &param))
        return false;
    if (!need_count(c, &param, "learner_model_param", "num_class", &count))
        return false;
    if (count != c->n_classes)
        return bad(c, "num_class is %llu, the file lists %llu classes", (unsigned long long)count,
                   (unsigned long long)c->n_classes);
    if (!need_count(c, &param, "learner_model_param", "num_feature", &count))
        return false;
    if (count != c->n_features)
        return bad(c, "num_feature is %llu, the file lists %llu features",
                   (unsigned long long)count, (unsigned long long)c->n_features);
    if (!need(c, &param, "learner_model_param", "base_score", &v))
        return false;
    if (!str_float(&v, &base_score))
        return bad(c, "base_score is not a finite number");
    if (!optional_is(&param, "num_target", "1"))
        return bad(c, "num_target is not 1");
    if (!need(c, &learner, "learner", "objective", &obj) || !need(c, &obj, "objective", "name", &v))
        return false;
    if (!str_is(&v, "multi:softprob"))
        return bad(c, "the objective is not multi:softprob; parus models' is");
    switch (member(&obj, "softmax_multiclass_param", &param)) {
    case 0:
        break;
    case 1:
        if (member(&param, "num_class", &v) == 1 && str_count(&v, &count) && count == c->n_classes)
            break;
        /* fall through */
    default:
        return bad(c, "the objective's num_class is not the model's");
    }
    if (!need(c, &learner, "learner", "gradient_booster", &gb))
        return false;
    return check_booster(c, &gb);
}

parus_status parus__xgb_model_check(const void *bytes, size_t n_bytes, size_t n_features,
                                    size_t n_classes, parus_error *err)
{
    checker c;
    ubj u;
    uval root;
    char why[256];
    bool ok;
    memset(&c, 0, sizeof c);
    c.why = why;
    c.why_size = sizeof why;
    c.n_features = n_features;
    c.n_classes = n_classes;
    u.p = bytes;
    u.end = u.p + n_bytes;
    if (n_bytes == 0 || !ubj_value(&u, *u.p++, 0) || u.p != u.end)
        return parus_fail(err, PARUS_E_FORMAT,
                          "not well-formed UBJSON (a count or length past the end of the file, an "
                          "unknown marker)");
    if (n_features == 0 || n_classes < 2)
        return parus_fail(err, PARUS_E_INVALID, "xgb model check: %zu features, %zu classes",
                          n_features, n_classes);
    root.m = *(const unsigned char *)bytes;
    root.p = (const unsigned char *)bytes + 1;
    root.end = u.end;
    ok = check_learner(&c, &root);
    free(c.left);
    free(c.right);
    free(c.parent);
    free(c.feature);
    free(c.stack);
    free(c.seen);
    if (!ok)
        return parus_fail(err, c.nomem ? PARUS_E_NOMEM : PARUS_E_FORMAT, "%s", why);
    return PARUS_OK;
}
