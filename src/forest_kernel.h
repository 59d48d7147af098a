/*
 * forest_kernel.h - the block kernel of forest.c, written once for any vector width: forest.c
 * includes this file once per instruction set, with
 *   FK_NAME   the function's name,
 *   FK_LANES  floats per vector (16 for AVX-512, 8 for AVX2, 4 for the base x86-64 set),
 *   FK_ATTR   its target attribute (or nothing),
 *   FK_PERMUTE 1 when the leaf values are looked up by permutes of two vectors (a single
 *             instruction with 16 lanes), 0 for loads by index (a gather with AVX2).
 * GCC's vectors are used at the width the target has in registers: wider ones are split badly
 * (comparisons one lane at a time). Every variant does the same float operations in the same
 * order, so all give the same bits. Not a header to include elsewhere.
 */
#define FK_CAT2(a, b) a##b
#define FK_CAT(a, b) FK_CAT2(a, b)
#define FK_VF FK_CAT(fk_vf, FK_LANES)
#define FK_VI FK_CAT(fk_vi, FK_LANES)
#define FK_VU FK_CAT(fk_vu, FK_LANES)
#define FK_GROUP (BLOCK / FK_LANES)

typedef float FK_VF __attribute__((vector_size(FK_LANES * sizeof(float))));
typedef int32_t FK_VI __attribute__((vector_size(FK_LANES * sizeof(int32_t))));
typedef uint32_t FK_VU __attribute__((vector_size(FK_LANES * sizeof(uint32_t))));

/* Into the FK_VI out, the index of the lowest set bit of each lane of the FK_VU m (lanes are
 * never 0): the float of the isolated bit is an exact power of two whose exponent is the index
 * (2^31 converts as -2^31, same exponent). A macro: vectors are not passed to functions, whose
 * calling convention for them depends on the instruction set. */
#define FK_LOWEST_BIT(out, m)                                                                      \
    do {                                                                                           \
        FK_VU b_ = (m) & -(m);                                                                     \
        FK_VF f_ = __builtin_convertvector((FK_VI)b_, FK_VF);                                      \
        FK_VI e_;                                                                                  \
        memcpy(&e_, &f_, sizeof e_);                                                               \
        (out) = ((e_ >> 23) & 0xff) - 127;                                                         \
    } while (0)

/* The leaf values of the lanes' leaves idx (< 32) of the tree whose leaves start at leaf. */
#if FK_PERMUTE
#define FK_LEAVES(out, leaf, idx)                                                                  \
    do {                                                                                           \
        FK_VF l0_, l1_;                                                                            \
        memcpy(&l0_, (leaf), sizeof l0_);                                                          \
        memcpy(&l1_, (leaf) + FK_LANES, sizeof l1_);                                               \
        (out) = __builtin_shuffle(l0_, l1_, (idx));                                                \
    } while (0)
#else
#define FK_LEAVES(out, leaf, idx)                                                                  \
    do {                                                                                           \
        size_t i_;                                                                                 \
        for (i_ = 0; i_ < FK_LANES; i_++)                                                          \
            (out)[i_] = (leaf)[(idx)[i_]];                                                         \
    } while (0)
#endif

/* Adds the trees [0, n_trees) to the margins of one block: acc holds n_classes rows of BLOCK
 * floats, xt the block's features (2 x n_features rows of BLOCK floats). */
FK_ATTR static void FK_NAME(const parus__forest *restrict f, size_t n_trees,
                            const float *restrict xt, float *restrict acc)
{
    size_t t, k, g;
    for (t = 0; t < n_trees; t++) {
        const size_t a = f->node0[t], e = f->node0[t + 1];
        const float *leaf = f->leaf + f->leaf0[t];
        float *ac = acc + f->cls[t];
        FK_VU lo[FK_GROUP], hi[FK_GROUP];
        FK_VF v, w;
#pragma GCC unroll 16
        for (g = 0; g < FK_GROUP; g++)
            lo[g] = hi[g] = ~(FK_VU){0};
        if (!f->wide[t]) {
            for (k = a; k < e; k++) {
                const float *xp = xt + f->off[k];
                const float thr = f->thr[k];
                const uint32_t keep = f->keep_lo[k];
#pragma GCC unroll 16
                for (g = 0; g < FK_GROUP; g++) {
                    FK_VF x;
                    memcpy(&x, xp + g * FK_LANES, sizeof x);
                    lo[g] &= keep | (FK_VU)(x < thr);
                }
            }
#pragma GCC unroll 16
            for (g = 0; g < FK_GROUP; g++) {
                FK_VI idx;
                FK_LOWEST_BIT(idx, lo[g]);
                FK_LEAVES(v, leaf, idx);
                memcpy(&w, ac + g * FK_LANES, sizeof w);
                w += v;
                memcpy(ac + g * FK_LANES, &w, sizeof w);
            }
        } else {
            for (k = a; k < e; k++) {
                const float *xp = xt + f->off[k];
                const float thr = f->thr[k];
                const uint32_t keep_lo = f->keep_lo[k], keep_hi = f->keep_hi[k];
#pragma GCC unroll 16
                for (g = 0; g < FK_GROUP; g++) {
                    FK_VF x;
                    FK_VU left;
                    memcpy(&x, xp + g * FK_LANES, sizeof x);
                    left = (FK_VU)(x < thr);
                    lo[g] &= keep_lo | left;
                    hi[g] &= keep_hi | left;
                }
            }
#pragma GCC unroll 16
            for (g = 0; g < FK_GROUP; g++) {
                FK_VI idx;
                FK_VU none = (FK_VU)(lo[g] == 0), bits, sel;
                bits = (lo[g] & ~none) | (hi[g] & none);
                FK_LOWEST_BIT(idx, bits);
                /* idx < 32 in either half; none picks the upper 32 leaves. */
                FK_LEAVES(v, leaf, idx);
                FK_LEAVES(w, leaf + 32, idx);
                memcpy(&bits, &v, sizeof bits);
                memcpy(&sel, &w, sizeof sel);
                sel = (bits & ~none) | (sel & none);
                memcpy(&v, &sel, sizeof v);
                memcpy(&w, ac + g * FK_LANES, sizeof w);
                w += v;
                memcpy(ac + g * FK_LANES, &w, sizeof w);
            }
        }
    }
}

#undef FK_LEAVES
#undef FK_LOWEST_BIT
#undef FK_GROUP
#undef FK_VU
#undef FK_VI
#undef FK_VF
#undef FK_CAT
#undef FK_CAT2
