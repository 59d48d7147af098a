/*
 * tcnn.c - a temporal convolutional network over a sample's series (TempCNN: Pelletier, Webb and
 * Petitjean 2019, "Temporal convolutional neural network for the classification of satellite
 * image time series", Remote Sens. 11(5):523): three 1-D convolutions over time (kernel 5, "same"
 * zero padding, ReLU, dropout), a dense layer (ReLU, dropout) and a softmax, trained with Adam
 * (Kingma and Ba 2015) on class-weighted cross-entropy. The classifier (classify.c) averages its
 * probabilities with the trees' (learner ensemble) or uses it alone (learner tcnn).
 *
 * Why a convolution beside the trees: a tree splits on one date's value, so a pattern shifted by
 * a date or two (a crop sown later) is a different set of splits; a convolution's filters slide
 * over time and answer to the shape wherever it lies, and its errors differ from the trees'.
 *
 * Workload: a few thousand training samples of a few channels x 10-100 steps; the network has
 * some 60,000 weights. Plain float arithmetic, no BLAS: the loops are laid out so the inner one
 * is an axpy over time or units that the compiler vectorises without reordering a sum.
 *
 * Determinism: the initial weights, the order of samples in each epoch and every dropout mask
 * are hashes of the seed (splitmix64; no rand()). A batch is cut into TCNN_CHUNKS fixed chunks
 * whatever the thread count; each chunk's gradient is summed over its samples in order, then the
 * chunks' gradients in chunk order, so a model and its probabilities are the same bit for bit for
 * any number of threads (tests/test_tcnn.c checks 1, 2 and 5).
 *
 * Normaliser: no batch normalisation (it couples the samples of a batch); each input channel is
 * standardised with the mean and standard deviation of the training samples only, and the
 * weights start at He et al.'s (2015) scale for ReLU layers.
 *
 * Missing steps (NaN) are filled as the season fills gaps, by linear interpolation between the
 * nearest observed steps, here without a length limit; before the first and after the last
 * observed step the nearest value is held; a channel with no value at all is the training mean.
 */
#include "tcnn_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "omp_int.h"
#include "util_int.h"

#define TCNN_MAGIC "PTCN"
#define TCNN_FORMAT 1u
#define TCNN_CHUNKS 4
#define TCNN_MAX_CHANNELS 4096
#define TCNN_MAX_STEPS 400
#define TCNN_MAX_UNITS 4096
#define TCNN_MAX_KERNEL 31
#define TCNN_MAX_CLASSES 100000
#define N_LAYERS 5 /* three convolutions, the dense layer, the output */

struct parus__tcnn {
    size_t n_ch, n_steps, kernel, n_filters, n_hidden, n_classes, n_features;
    uint32_t *col;       /* n_ch x n_steps feature indices, channel-major */
    float *mean, *scale; /* n_ch: input standardisation (x - mean) * scale */
    float *param;        /* n_param, laid out as in layout */
    size_t n_param;
    size_t w_off[N_LAYERS], b_off[N_LAYERS];
};

/* Per-sample activations and gradients. */
typedef struct work {
    float *in;         /* T x n_ch, time-major as every activation */
    float *act[3];     /* the convolutions' outputs after ReLU and dropout, T x F */
    float *drop[3];    /* their dropout factors (0 or 1 / (1 - p)); NULL at prediction */
    float *hid, *dhid; /* dense layer: H outputs and dropout factors */
    float *prob;       /* n_classes */
    float *g_a, *g_b;  /* T x F (or T x n_ch) gradients of activations */
    float *g_hid;      /* H */
    float *g_out;      /* n_classes */
    float *mem;
} work;

void parus__tcnn_options_init(parus__tcnn_options *opt)
{
    opt->n_filters = 32;
    opt->kernel = 5;
    opt->n_hidden = 64;
    opt->n_epochs = 20;
    opt->batch = 32;
    opt->learning_rate = 1e-3;
    opt->dropout = 0.2;
    opt->seed = 20240601;
    opt->n_threads = 0;
}

void parus__tcnn_free(parus__tcnn *net)
{
    if (!net)
        return;
    free(net->col);
    free(net->mean);
    free(net->scale);
    free(net->param);
    free(net);
}

size_t parus__tcnn_n_channels(const parus__tcnn *net)
{
    return net->n_ch;
}

size_t parus__tcnn_n_steps(const parus__tcnn *net)
{
    return net->n_steps;
}

/* ---- hashing: weights, order and dropout ---- */

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t hash4(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    return mix64(mix64(mix64(mix64(a) ^ b) ^ c) ^ d);
}

/* uniform in [0, 1) from 53 bits */
static double unit_of(uint64_t h)
{
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- shape ---- */

/* Offsets of each layer's weights and biases; false on overflow or an absurd size. */
static bool layout(parus__tcnn *net)
{
    size_t in_ch[3], i, off = 0, n, flat;
    in_ch[0] = net->n_ch;
    in_ch[1] = in_ch[2] = net->n_filters;
    for (i = 0; i < 3; i++) {
        if (!parus__mul_size(net->n_filters, in_ch[i], &n) || !parus__mul_size(n, net->kernel, &n))
            return false;
        net->w_off[i] = off;
        off += n;
        net->b_off[i] = off;
        off += net->n_filters;
    }
    if (!parus__mul_size(net->n_filters, net->n_steps, &flat) ||
        !parus__mul_size(flat, net->n_hidden, &n))
        return false;
    net->w_off[3] = off;
    off += n;
    net->b_off[3] = off;
    off += net->n_hidden;
    if (!parus__mul_size(net->n_hidden, net->n_classes, &n))
        return false;
    net->w_off[4] = off;
    off += n;
    net->b_off[4] = off;
    off += net->n_classes;
    net->n_param = off;
    return off < ((size_t)1 << 28);
}

static size_t work_floats(const parus__tcnn *net)
{
    size_t ft = net->n_filters * net->n_steps, ct = net->n_ch * net->n_steps;
    size_t wide = ft > ct ? ft : ct;
    return ct + 6 * ft + 2 * net->n_hidden + net->n_classes + 2 * wide + net->n_hidden +
           net->n_classes;
}

static bool work_init(work *w, const parus__tcnn *net, bool training)
{
    size_t ft = net->n_filters * net->n_steps, ct = net->n_ch * net->n_steps, i;
    size_t wide = ft > ct ? ft : ct;
    float *p;
    if (!(w->mem = calloc(work_floats(net), sizeof *w->mem)))
        return false;
    p = w->mem;
    w->in = p;
    p += ct;
    for (i = 0; i < 3; i++) {
        w->act[i] = p;
        p += ft;
        w->drop[i] = training ? p : NULL;
        p += ft;
    }
    w->hid = p;
    p += net->n_hidden;
    w->dhid = training ? p : NULL;
    p += net->n_hidden;
    w->prob = p;
    p += net->n_classes;
    w->g_a = p;
    p += wide;
    w->g_b = p;
    p += wide;
    w->g_hid = p;
    p += net->n_hidden;
    w->g_out = p;
    return true;
}

/* ---- input ---- */

/* Sample row's series into in (T x n_ch, time-major), gaps filled, standardised. */
static void gather(const parus__tcnn *net, const double *row, float *in)
{
    size_t c, t, T = net->n_steps, C = net->n_ch;
    for (c = 0; c < C; c++) {
#define dst(i) in[(i)*C + c]
        const uint32_t *col = net->col + c * T;
        size_t last = T; /* the last observed step, T when none yet */
        for (t = 0; t < T; t++) {
            double v = row[col[t]];
            if (!isfinite(v))
                continue;
            if (last == T) {
                size_t u;
                for (u = 0; u < t; u++) /* held before the first observation */
                    dst(u) = (float)v;
            } else {
                double v0 = row[col[last]];
                size_t u;
                for (u = last + 1; u < t; u++)
                    dst(u) = (float)(v0 + (v - v0) * (double)(u - last) / (double)(t - last));
            }
            dst(t) = (float)v;
            last = t;
        }
        if (last == T) {
            for (t = 0; t < T; t++)
                dst(t) = net->mean[c];
        } else {
            for (t = last + 1; t < T; t++) /* held after the last */
                dst(t) = dst(last);
        }
        for (t = 0; t < T; t++)
            dst(t) = (dst(t) - net->mean[c]) * net->scale[c];
#undef dst
    }
}

/* ---- forward and backward ---- */

/* The passes are compiled twice on x86-64 with GCC, for AVX2 and the base set, the CPU choosing at
 * load time: the wider vectors only widen the axpys, each lane computes what it computed before
 * (no sum is reordered and, in ISO C mode, no multiply-add fused), so the bits are the same. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define TCNN_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TCNN_CLONES
#endif

/* Activations are time-major (T x channels) so that every inner loop runs over contiguous
 * channels or filters: an axpy that the compiler vectorises without reordering a sum. A layer's
 * weights are laid out [k][cin][F]; wt is the same transposed to [k][F][cin] (for the gradient at
 * the input). */

/* out (T x F) = conv(in (T x cin)) + b, "same" zero padding. */
TCNN_CLONES static void conv_forward(const float *restrict w, const float *restrict b, size_t F,
                                     size_t cin, size_t K, size_t T, const float *restrict in,
                                     float *restrict out)
{
    size_t t, k, c, f, half = K / 2;
    for (t = 0; t < T; t++) {
        float *o = out + t * F;
        memcpy(o, b, F * sizeof *o);
        for (k = 0; k < K; k++) {
            const float *x;
            if (t + k < half || t + k - half >= T)
                continue;
            x = in + (t + k - half) * cin;
            for (c = 0; c < cin; c++) {
                const float *wr = w + (k * cin + c) * F;
                float xv = x[c];
                for (f = 0; f < F; f++) /* no test for a zero input: a branch costs more */
                    o[f] += xv * wr[f];
            }
        }
    }
}

/* Gradients of a convolution: g (T x F) is the gradient at its output; adds to gw and gb and,
 * when gin is not NULL, sets gin (T x cin) to the gradient at its input. */
TCNN_CLONES static void conv_backward(const float *restrict wt, size_t F, size_t cin, size_t K,
                                      size_t T, const float *restrict in, const float *restrict g,
                                      float *restrict gw, float *restrict gb, float *restrict gin)
{
    size_t t, k, c, f, half = K / 2;
    if (gin)
        memset(gin, 0, T * cin * sizeof *gin);
    for (t = 0; t < T; t++) {
        const float *gt = g + t * F;
        for (f = 0; f < F; f++)
            gb[f] += gt[f];
        for (k = 0; k < K; k++) {
            const float *x;
            if (t + k < half || t + k - half >= T)
                continue;
            x = in + (t + k - half) * cin;
            for (c = 0; c < cin; c++) {
                float *gr = gw + (k * cin + c) * F, xv = x[c];
                for (f = 0; f < F; f++)
                    gr[f] += xv * gt[f];
            }
            if (gin) {
                float *gi = gin + (t + k - half) * cin;
                for (f = 0; f < F; f++) {
                    const float *wr = wt + (k * F + f) * cin;
                    float gv = gt[f];
                    for (c = 0; c < cin; c++)
                        gi[c] += gv * wr[c];
                }
            }
        }
    }
}

/* wt = w transposed from [k][cin][F] to [k][F][cin]. */
static void transpose_conv(const float *restrict w, size_t F, size_t cin, size_t K,
                           float *restrict wt)
{
    size_t k, c, f;
    for (k = 0; k < K; k++)
        for (c = 0; c < cin; c++)
            for (f = 0; f < F; f++)
                wt[(k * F + f) * cin + c] = w[(k * cin + c) * F + f];
}

/* ReLU, then the dropout factors d (NULL: none) */
static void relu_drop(float *a, const float *d, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float v = a[i] > 0.0f ? a[i] : 0.0f;
        a[i] = d ? v * d[i] : v;
    }
}

/* Dropout factors of one sample's layer from the hash of (seed, epoch, sample, layer) and the
 * unit: each 64-bit hash gives four units 16 bits each (p to 1/65536). */
static void drop_factors(float *d, size_t n, double p, uint64_t key, size_t layer)
{
    size_t i;
    uint64_t base = hash4(key, (uint64_t)layer, 0x64726f70ULL, 0), h = 0;
    uint32_t cut = (uint32_t)(p * 65536.0 + 0.5);
    float keep = (float)(1.0 / (1.0 - p));
    for (i = 0; i < n; i++) {
        if (i % 4 == 0)
            h = mix64(base + (uint64_t)(i / 4));
        d[i] = (uint32_t)((h >> (16 * (i % 4))) & 0xffffu) < cut ? 0.0f : keep;
    }
}

/* The forward pass of w->in into w->prob. */
TCNN_CLONES static void forward(const parus__tcnn *net, const float *param, work *w)
{
    size_t T = net->n_steps, F = net->n_filters, H = net->n_hidden, K = net->n_classes;
    size_t i, j, l, flat = F * T;
    const float *prev = w->in;
    const float *wd = param + net->w_off[3], *wo = param + net->w_off[4];
    float mx, sum;

    for (l = 0; l < 3; l++) {
        conv_forward(param + net->w_off[l], param + net->b_off[l], F, l ? F : net->n_ch,
                     net->kernel, T, prev, w->act[l]);
        relu_drop(w->act[l], w->drop[l], flat);
        prev = w->act[l];
    }
    memcpy(w->hid, param + net->b_off[3], H * sizeof *w->hid);
    for (i = 0; i < flat; i++) { /* wd is flat x H: an axpy per input */
        float a = prev[i];
        const float *row = wd + i * H;
        if (a == 0.0f)
            continue;
        for (j = 0; j < H; j++)
            w->hid[j] += a * row[j];
    }
    relu_drop(w->hid, w->dhid, H);
    memcpy(w->prob, param + net->b_off[4], K * sizeof *w->prob);
    for (i = 0; i < H; i++) {
        float a = w->hid[i];
        const float *row = wo + i * K;
        for (j = 0; j < K; j++)
            w->prob[j] += a * row[j];
    }
    mx = w->prob[0];
    for (j = 1; j < K; j++)
        if (w->prob[j] > mx)
            mx = w->prob[j];
    sum = 0.0f;
    for (j = 0; j < K; j++) {
        w->prob[j] = expf(w->prob[j] - mx);
        sum += w->prob[j];
    }
    for (j = 0; j < K; j++)
        w->prob[j] /= sum;
}

/* Back-propagate one sample's weighted cross-entropy (label y, weight sw) into grad; wt[1] and
 * wt[2]: the second and third convolutions' weights transposed (transpose_conv), wt[3] the dense
 * layer's (H x flat). */
TCNN_CLONES static void backward(const parus__tcnn *net, const float *param, float *const wt[4],
                                 work *w, size_t y, float sw, float *grad)
{
    size_t T = net->n_steps, F = net->n_filters, H = net->n_hidden, K = net->n_classes;
    size_t i, j, flat = F * T;
    int l;
    const float *wo = param + net->w_off[4];
    float *gwd = grad + net->w_off[3], *gwo = grad + net->w_off[4];
    float *g = w->g_a, *g_next = w->g_b;

    for (j = 0; j < K; j++)
        w->g_out[j] = sw * (w->prob[j] - (j == y ? 1.0f : 0.0f));
    for (j = 0; j < K; j++)
        grad[net->b_off[4] + j] += w->g_out[j];
    for (i = 0; i < H; i++) {
        const float *row = wo + i * K;
        float *grow = gwo + i * K, a = w->hid[i], s = 0.0f;
        for (j = 0; j < K; j++)
            grow[j] += a * w->g_out[j];
        for (j = 0; j < K; j++)
            s += row[j] * w->g_out[j];
        /* through dropout and ReLU: hid > 0 exactly where both let the unit through */
        w->g_hid[i] = w->hid[i] > 0.0f ? s * w->dhid[i] : 0.0f;
    }
    for (j = 0; j < H; j++)
        grad[net->b_off[3] + j] += w->g_hid[j];
    for (i = 0; i < flat; i++) {
        float *grow = gwd + i * H, a = w->act[2][i];
        if (a != 0.0f)
            for (j = 0; j < H; j++)
                grow[j] += a * w->g_hid[j];
    }
    memset(g, 0, flat * sizeof *g);
    for (j = 0; j < H; j++) { /* g = Wd g_hid, as axpys over the transposed weights */
        const float *col = wt[3] + j * flat;
        float gh = w->g_hid[j];
        if (gh == 0.0f)
            continue;
        for (i = 0; i < flat; i++)
            g[i] += gh * col[i];
    }
    for (i = 0; i < flat; i++)
        g[i] = w->act[2][i] > 0.0f ? g[i] * w->drop[2][i] : 0.0f;
    for (l = 2; l >= 0; l--) {
        const float *in = l ? w->act[l - 1] : w->in;
        size_t cin = l ? F : net->n_ch;
        float *tmp;
        conv_backward(wt[l], F, cin, net->kernel, T, in, g, grad + net->w_off[l],
                      grad + net->b_off[l], l ? g_next : NULL);
        if (!l)
            break;
        for (i = 0; i < flat; i++)
            g_next[i] = w->act[l - 1][i] > 0.0f ? g_next[i] * w->drop[l - 1][i] : 0.0f;
        tmp = g;
        g = g_next;
        g_next = tmp;
    }
}

/* ---- training ---- */

/* The series channels of ds's features into net (col, n_ch, n_steps). */
static parus_status find_channels(parus__tcnn *net, const parus_dataset *ds, parus_error *err)
{
    size_t n = ds->n_features, i, j, best = n, best_count = 0, n_ch = 0, T;
    size_t *band_len = malloc((n + 1) * sizeof *band_len), *count = calloc(n + 1, sizeof *count);
    long *step = malloc((n + 1) * sizeof *step);
    size_t *first = malloc((n + 1) * sizeof *first); /* a series feature's band's first feature */
    size_t *chan = NULL;
    parus_status st = PARUS_E_NOMEM;

    if (!band_len || !count || !step || !first) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory training the network");
        goto out;
    }
    for (i = 0; i < n; i++) {
        first[i] = n;
        if (!parus__series_name(ds->feature_names[i], true, &band_len[i], &step[i]))
            continue;
        for (j = 0; j < i && first[i] == n; j++)
            if (first[j] == j && band_len[j] == band_len[i] &&
                strncmp(ds->feature_names[j], ds->feature_names[i], band_len[i]) == 0)
                first[i] = j;
        if (first[i] == n)
            first[i] = i;
        count[first[i]]++;
    }
    for (i = 0; i < n; i++)
        if (first[i] == i && count[i] > best_count) {
            best = i;
            best_count = count[i];
        }
    if (best == n || best_count < 4 || best_count > TCNN_MAX_STEPS) {
        st = parus_fail(err, PARUS_E_INVALID,
                        "the network needs a series among the features (<band>_<digits> or "
                        "<band>_s<digits>, 4 to %d steps)",
                        TCNN_MAX_STEPS);
        goto out;
    }
    T = best_count;
    if (!(chan = malloc((n + 1) * T * sizeof *chan))) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory training the network");
        goto out;
    }
    /* bands with the reference band's steps, in the order of the features; the steps sorted */
    for (i = 0; i < n; i++) {
        size_t got = 0, a, b;
        bool same = true;
        if (first[i] != i || count[i] != T)
            continue;
        for (j = i; j < n; j++)
            if (first[j] == i)
                chan[n_ch * T + got++] = j;
        for (a = 1; a < T; a++) /* insertion sort by step */
            for (b = a; b > 0 && step[chan[n_ch * T + b - 1]] > step[chan[n_ch * T + b]]; b--) {
                size_t tmp = chan[n_ch * T + b];
                chan[n_ch * T + b] = chan[n_ch * T + b - 1];
                chan[n_ch * T + b - 1] = tmp;
            }
        for (a = 0; a < T && n_ch > 0; a++)
            same = same && step[chan[n_ch * T + a]] == step[chan[a]];
        for (a = 1; a < T; a++)
            same = same && step[chan[n_ch * T + a]] != step[chan[n_ch * T + a - 1]];
        if (same && n_ch < TCNN_MAX_CHANNELS)
            n_ch++;
    }
    if (n_ch == 0 || !(net->col = malloc(n_ch * T * sizeof *net->col))) {
        st = n_ch ? parus_fail(err, PARUS_E_NOMEM, "out of memory training the network")
                  : parus_fail(err, PARUS_E_INVALID, "the network's series repeat a step");
        goto out;
    }
    for (i = 0; i < n_ch * T; i++)
        net->col[i] = (uint32_t)chan[i];
    net->n_ch = n_ch;
    net->n_steps = T;
    st = PARUS_OK;
out:
    free(band_len);
    free(count);
    free(step);
    free(first);
    free(chan);
    return st;
}

/* He-uniform weights from the seed; zero biases. */
static void init_weights(parus__tcnn *net, uint64_t seed)
{
    size_t l, i;
    size_t fan_in[N_LAYERS];
    fan_in[0] = net->n_ch * net->kernel;
    fan_in[1] = fan_in[2] = net->n_filters * net->kernel;
    fan_in[3] = net->n_filters * net->n_steps;
    fan_in[4] = net->n_hidden;
    memset(net->param, 0, net->n_param * sizeof *net->param);
    for (l = 0; l < N_LAYERS; l++) {
        /* ReLU layers: He et al. (2015); the softmax layer: Glorot and Bengio (2010) */
        double lim = l < 4 ? sqrt(6.0 / (double)fan_in[l])
                           : sqrt(6.0 / (double)(fan_in[l] + net->n_classes));
        for (i = net->w_off[l]; i < net->b_off[l]; i++)
            net->param[i] = (float)((2.0 * unit_of(hash4(seed, 0x696e6974ULL, l, i)) - 1.0) * lim);
    }
}

/* Mean and scale of each channel over the training rows (in row order, in double). */
static parus_status standardise(parus__tcnn *net, const parus_dataset *ds, const size_t *rows,
                                size_t n_rows, parus_error *err)
{
    size_t c, i, t, T = net->n_steps;
    float *in = malloc(net->n_ch * T * sizeof *in);
    double *sum = calloc(net->n_ch, sizeof *sum), *sq = calloc(net->n_ch, sizeof *sq);
    size_t *cnt = calloc(net->n_ch, sizeof *cnt);
    parus_status st = PARUS_OK;

    if (!in || !sum || !sq || !cnt) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory training the network");
        goto out;
    }
    for (c = 0; c < net->n_ch; c++) { /* gather with identity scaling: values as filled */
        net->mean[c] = 0.0f;
        net->scale[c] = 1.0f;
    }
    for (i = 0; i < n_rows; i++) {
        const double *row = ds->x + (rows ? rows[i] : i) * ds->n_features;
        gather(net, row, in);
        for (c = 0; c < net->n_ch; c++) {
            bool any = false;
            for (t = 0; t < T; t++)
                any = any || isfinite(row[net->col[c * T + t]]);
            if (!any) /* filled with the (not yet known) mean: no evidence */
                continue;
            for (t = 0; t < T; t++) {
                double v = (double)in[t * net->n_ch + c];
                sum[c] += v;
                sq[c] += v * v;
            }
            cnt[c] += T;
        }
    }
    for (c = 0; c < net->n_ch; c++) {
        double m = cnt[c] ? sum[c] / (double)cnt[c] : 0.0;
        double var = cnt[c] ? sq[c] / (double)cnt[c] - m * m : 0.0;
        net->mean[c] = (float)m;
        net->scale[c] = var > 1e-12 && isfinite(var) ? (float)(1.0 / sqrt(var)) : 1.0f;
    }
out:
    free(in);
    free(sum);
    free(sq);
    free(cnt);
    return st;
}

typedef struct trainer {
    parus__tcnn *net;
    float *x;     /* n_rows x (n_ch T), the standardised inputs */
    size_t *y;    /* n_rows */
    float *w;     /* n_rows: sample weights */
    float *grad;  /* TCNN_CHUNKS x n_param */
    float *m, *v; /* Adam's moments */
    float *wt[4]; /* this batch's weights transposed: convolutions 2, 3 and the dense layer */
    size_t *order;
    work wk[TCNN_CHUNKS];
} trainer;

static void trainer_release(trainer *tr)
{
    size_t i;
    free(tr->x);
    free(tr->y);
    free(tr->w);
    free(tr->grad);
    free(tr->m);
    free(tr->v);
    free(tr->order);
    free(tr->wt[1]);
    free(tr->wt[2]);
    free(tr->wt[3]);
    for (i = 0; i < TCNN_CHUNKS; i++)
        free(tr->wk[i].mem);
}

/* One chunk of a batch: the summed gradients of its samples, in order. */
static void run_chunk(trainer *tr, const parus__tcnn_options *opt, size_t epoch, const size_t *idx,
                      size_t n, size_t batch_n, size_t ch)
{
    const parus__tcnn *net = tr->net;
    size_t in_n = net->n_ch * net->n_steps, ft = net->n_filters * net->n_steps, s, l;
    float *grad = tr->grad + ch * net->n_param;
    work *w = &tr->wk[ch];

    memset(grad, 0, net->n_param * sizeof *grad);
    for (s = 0; s < n; s++) {
        size_t r = idx[s];
        uint64_t key = hash4(opt->seed, 0x65706f6368ULL, epoch, r);
        memcpy(w->in, tr->x + r * in_n, in_n * sizeof *w->in);
        for (l = 0; l < 3; l++)
            drop_factors(w->drop[l], ft, opt->dropout, key, l);
        drop_factors(w->dhid, net->n_hidden, opt->dropout, key, 3);
        forward(net, net->param, w);
        backward(net, net->param, tr->wt, w, tr->y[r], tr->w[r] / (float)batch_n, grad);
    }
}

parus_status parus__tcnn_train(const parus_dataset *ds, const size_t *rows, size_t n_rows,
                               const float *weight, const parus__tcnn_options *opt,
                               parus__tcnn **out, parus_error *err)
{
    parus__tcnn *net;
    trainer tr;
    size_t i, e, in_n, step = 0, nx;
    int nt;
    parus_status st;

    memset(&tr, 0, sizeof tr);
    if (!ds || !opt || !out || !ds->x || !ds->label)
        return parus_fail(err, PARUS_E_INVALID, "network: missing argument");
    if (!rows)
        n_rows = ds->n_samples;
    if (n_rows == 0 || opt->n_filters == 0 || opt->n_filters > TCNN_MAX_UNITS ||
        opt->n_hidden == 0 || opt->n_hidden > TCNN_MAX_UNITS || opt->kernel % 2 == 0 ||
        opt->kernel > TCNN_MAX_KERNEL || opt->n_epochs == 0 || opt->n_epochs > 100000 ||
        opt->batch == 0 || !(opt->learning_rate > 0 && opt->learning_rate < 1) ||
        !(opt->dropout >= 0 && opt->dropout < 1) || opt->n_threads < 0 || ds->n_classes < 2 ||
        ds->n_classes > TCNN_MAX_CLASSES)
        return parus_fail(err, PARUS_E_INVALID, "network: invalid options");
    for (i = 0; i < n_rows; i++) {
        size_t r = rows ? rows[i] : i;
        if (r >= ds->n_samples || ds->label[r] >= ds->n_classes)
            return parus_fail(err, PARUS_E_INVALID, "network: sample %zu out of range", r);
    }
    if (!(net = calloc(1, sizeof *net)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory training the network");
    net->kernel = opt->kernel;
    net->n_filters = opt->n_filters;
    net->n_hidden = opt->n_hidden;
    net->n_classes = ds->n_classes;
    net->n_features = ds->n_features;
    if ((st = find_channels(net, ds, err)) != PARUS_OK)
        goto out;
    if (!layout(net)) {
        st = parus_fail(err, PARUS_E_INVALID, "network: too large");
        goto out;
    }
    in_n = net->n_ch * net->n_steps;
    st = PARUS_E_NOMEM;
    if (!(net->mean = malloc(net->n_ch * sizeof *net->mean)) ||
        !(net->scale = malloc(net->n_ch * sizeof *net->scale)) ||
        !(net->param = malloc(net->n_param * sizeof *net->param)) ||
        !parus__mul_size(n_rows, in_n, &nx) || !(tr.x = malloc(nx * sizeof *tr.x)) ||
        !(tr.y = malloc(n_rows * sizeof *tr.y)) || !(tr.w = malloc(n_rows * sizeof *tr.w)) ||
        !(tr.grad = malloc(TCNN_CHUNKS * net->n_param * sizeof *tr.grad)) ||
        !(tr.m = calloc(net->n_param, sizeof *tr.m)) ||
        !(tr.v = calloc(net->n_param, sizeof *tr.v)) ||
        !(tr.order = malloc(n_rows * sizeof *tr.order)) ||
        !(tr.wt[1] = malloc((net->b_off[1] - net->w_off[1]) * sizeof *tr.wt[1])) ||
        !(tr.wt[2] = malloc((net->b_off[2] - net->w_off[2]) * sizeof *tr.wt[2])) ||
        !(tr.wt[3] = malloc((net->b_off[3] - net->w_off[3]) * sizeof *tr.wt[3]))) {
        parus_fail(err, PARUS_E_NOMEM, "out of memory training the network");
        goto out;
    }
    for (i = 0; i < TCNN_CHUNKS; i++)
        if (!work_init(&tr.wk[i], net, true)) {
            parus_fail(err, PARUS_E_NOMEM, "out of memory training the network");
            goto out;
        }
    if ((st = standardise(net, ds, rows, n_rows, err)) != PARUS_OK)
        goto out;
    for (i = 0; i < n_rows; i++) {
        size_t r = rows ? rows[i] : i;
        gather(net, ds->x + r * ds->n_features, tr.x + i * in_n);
        tr.y[i] = ds->label[r];
        tr.w[i] = weight ? weight[i] : 1.0f;
        tr.order[i] = i;
    }
    tr.net = net;
    init_weights(net, opt->seed);
    nt = opt->n_threads > 0 ? opt->n_threads : parus__omp_max_threads();
    if (nt > TCNN_CHUNKS)
        nt = TCNN_CHUNKS;
    for (e = 0; e < opt->n_epochs; e++) {
        size_t b0;
        for (i = n_rows; i > 1; i--) { /* Fisher-Yates, from the hash */
            size_t j = (size_t)(hash4(opt->seed, 0x73687566ULL, e, i) % (uint64_t)i), tmp;
            tmp = tr.order[i - 1];
            tr.order[i - 1] = tr.order[j];
            tr.order[j] = tmp;
        }
        for (b0 = 0; b0 < n_rows; b0 += opt->batch) {
            size_t nb = n_rows - b0 < opt->batch ? n_rows - b0 : opt->batch;
            size_t per = (nb + TCNN_CHUNKS - 1) / TCNN_CHUNKS;
            double b1 = 0.9, b2 = 0.999, lr_t;
            float *g0 = tr.grad;
            long ch, p;
            step++;
            for (i = 1; i < 3; i++)
                transpose_conv(net->param + net->w_off[i], net->n_filters, net->n_filters,
                               net->kernel, tr.wt[i]);
            transpose_conv(net->param + net->w_off[3], net->n_hidden, net->n_filters * net->n_steps,
                           1, tr.wt[3]);
            PARUS_OMP(parallel for num_threads(nt) schedule(static))
            for (ch = 0; ch < TCNN_CHUNKS; ch++) {
                size_t lo = (size_t)ch * per < nb ? (size_t)ch * per : nb;
                size_t hi = lo + per < nb ? lo + per : nb;
                run_chunk(&tr, opt, e, tr.order + b0 + lo, hi - lo, nb, (size_t)ch);
            }
            lr_t = opt->learning_rate * sqrt(1.0 - pow(b2, (double)step)) /
                   (1.0 - pow(b1, (double)step));
            PARUS_OMP(parallel for num_threads(nt) schedule(static))
            for (p = 0; p < (long)net->n_param; p++) {
                float g = g0[p], mv, vv;
                size_t c;
                for (c = 1; c < TCNN_CHUNKS; c++)
                    g += tr.grad[c * net->n_param + (size_t)p];
                mv = tr.m[p] = 0.9f * tr.m[p] + 0.1f * g;
                vv = tr.v[p] = 0.999f * tr.v[p] + 0.001f * g * g;
                net->param[p] -= (float)lr_t * mv / (sqrtf(vv) + 1e-8f);
            }
        }
    }
    *out = net;
    net = NULL;
    st = PARUS_OK;
out:
    trainer_release(&tr);
    parus__tcnn_free(net);
    return st;
}

/* ---- prediction ---- */

#define PREDICT_BLOCK 64

parus_status parus__tcnn_predict(const parus__tcnn *net, const double *x, size_t n, int n_threads,
                                 double *prob, parus_error *err)
{
    size_t n_blocks = (n + PREDICT_BLOCK - 1) / PREDICT_BLOCK, b;
    unsigned char *failed;
    int nt = n_threads > 0 ? n_threads : parus__omp_max_threads();
    long bl;

    if (n == 0)
        return PARUS_OK;
    if (!(failed = calloc(n_blocks, 1)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory predicting with the network");
    PARUS_OMP(parallel for num_threads(nt) schedule(dynamic, 1))
    for (bl = 0; bl < (long)n_blocks; bl++) {
        work w;
        size_t i, j, lo = (size_t)bl * PREDICT_BLOCK;
        size_t hi = lo + PREDICT_BLOCK < n ? lo + PREDICT_BLOCK : n;
        if (!work_init(&w, net, false)) {
            failed[bl] = 1;
            continue;
        }
        for (i = lo; i < hi; i++) {
            gather(net, x + i * net->n_features, w.in);
            forward(net, net->param, &w);
            for (j = 0; j < net->n_classes; j++)
                prob[i * net->n_classes + j] = (double)w.prob[j];
        }
        free(w.mem);
    }
    for (b = 0; b < n_blocks; b++)
        if (failed[b]) {
            free(failed);
            return parus_fail(err, PARUS_E_NOMEM, "out of memory predicting with the network");
        }
    free(failed);
    return PARUS_OK;
}

/* ---- bytes ---- */

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_f32(unsigned char *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, sizeof v);
    put_u32(p, v);
}

static float get_f32(const unsigned char *p)
{
    uint32_t v = get_u32(p);
    float f;
    memcpy(&f, &v, sizeof f);
    return f;
}

#define HEADER_WORDS 7 /* format, channels, steps, kernel, filters, hidden, classes */

/* The byte count of a network of this shape, or 0 when it does not fit a size_t. */
static size_t encoded_size(const parus__tcnn *net)
{
    size_t n = 4 + 4 * HEADER_WORDS, a;
    if (!parus__mul_size(net->n_ch, net->n_steps, &a) || !parus__mul_size(a, 4, &a))
        return 0;
    n += a + 8 * net->n_ch;
    if (!parus__mul_size(net->n_param, 4, &a) || n + a < n)
        return 0;
    return n + a;
}

parus_status parus__tcnn_encode(const parus__tcnn *net, unsigned char **buf, size_t *len,
                                parus_error *err)
{
    size_t n = encoded_size(net), i;
    unsigned char *b, *p;
    if (!n || !(b = malloc(n)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory saving the network");
    p = b;
    memcpy(p, TCNN_MAGIC, 4);
    p += 4;
    put_u32(p, TCNN_FORMAT);
    put_u32(p + 4, (uint32_t)net->n_ch);
    put_u32(p + 8, (uint32_t)net->n_steps);
    put_u32(p + 12, (uint32_t)net->kernel);
    put_u32(p + 16, (uint32_t)net->n_filters);
    put_u32(p + 20, (uint32_t)net->n_hidden);
    put_u32(p + 24, (uint32_t)net->n_classes);
    p += 4 * HEADER_WORDS;
    for (i = 0; i < net->n_ch * net->n_steps; i++, p += 4)
        put_u32(p, net->col[i]);
    for (i = 0; i < net->n_ch; i++, p += 4)
        put_f32(p, net->mean[i]);
    for (i = 0; i < net->n_ch; i++, p += 4)
        put_f32(p, net->scale[i]);
    for (i = 0; i < net->n_param; i++, p += 4)
        put_f32(p, net->param[i]);
    *buf = b;
    *len = n;
    return PARUS_OK;
}

parus_status parus__tcnn_decode(const unsigned char *buf, size_t len, size_t n_features,
                                size_t n_classes, parus__tcnn **out, parus_error *err)
{
    parus__tcnn *net;
    const unsigned char *p = buf;
    uint32_t h[HEADER_WORDS];
    size_t i, need;
    parus_status st;

    if (len < 4 + 4 * HEADER_WORDS || memcmp(buf, TCNN_MAGIC, 4) != 0)
        return parus_fail(err, PARUS_E_FORMAT, "the network part is not a parus network");
    for (i = 0; i < HEADER_WORDS; i++)
        h[i] = get_u32(buf + 4 + 4 * i);
    if (h[0] != TCNN_FORMAT)
        return parus_fail(err, PARUS_E_FORMAT, "the network part has format %lu, not %u",
                          (unsigned long)h[0], TCNN_FORMAT);
    if (h[1] == 0 || h[1] > TCNN_MAX_CHANNELS || h[2] < 4 || h[2] > TCNN_MAX_STEPS ||
        h[3] % 2 == 0 || h[3] > TCNN_MAX_KERNEL || h[4] == 0 || h[4] > TCNN_MAX_UNITS ||
        h[5] == 0 || h[5] > TCNN_MAX_UNITS || h[6] != n_classes)
        return parus_fail(err, PARUS_E_FORMAT,
                          "the network part's shape is impossible (%lu channels, %lu steps, "
                          "kernel %lu, %lu filters, %lu units, %lu classes for a model of %zu)",
                          (unsigned long)h[1], (unsigned long)h[2], (unsigned long)h[3],
                          (unsigned long)h[4], (unsigned long)h[5], (unsigned long)h[6], n_classes);
    if (!(net = calloc(1, sizeof *net)))
        return parus_fail(err, PARUS_E_NOMEM, "out of memory reading the network");
    net->n_ch = h[1];
    net->n_steps = h[2];
    net->kernel = h[3];
    net->n_filters = h[4];
    net->n_hidden = h[5];
    net->n_classes = h[6];
    net->n_features = n_features;
    if (!layout(net) || !(need = encoded_size(net)) || need != len) {
        st = parus_fail(err, PARUS_E_FORMAT,
                        "the network part has %zu bytes where its shape needs %zu", len,
                        layout(net) ? encoded_size(net) : (size_t)0);
        goto out;
    }
    if (!(net->col = malloc(net->n_ch * net->n_steps * sizeof *net->col)) ||
        !(net->mean = malloc(net->n_ch * sizeof *net->mean)) ||
        !(net->scale = malloc(net->n_ch * sizeof *net->scale)) ||
        !(net->param = malloc(net->n_param * sizeof *net->param))) {
        st = parus_fail(err, PARUS_E_NOMEM, "out of memory reading the network");
        goto out;
    }
    p = buf + 4 + 4 * HEADER_WORDS;
    for (i = 0; i < net->n_ch * net->n_steps; i++, p += 4)
        if ((net->col[i] = get_u32(p)) >= n_features) {
            st = parus_fail(err, PARUS_E_FORMAT,
                            "the network reads feature %lu of a model of %zu features",
                            (unsigned long)net->col[i] + 1, n_features);
            goto out;
        }
    for (i = 0; i < net->n_ch; i++, p += 4)
        net->mean[i] = get_f32(p);
    for (i = 0; i < net->n_ch; i++, p += 4)
        if (!((net->scale[i] = get_f32(p)) > 0.0f) || !isfinite(net->scale[i]) ||
            !isfinite(net->mean[i])) {
            st = parus_fail(err, PARUS_E_FORMAT, "the network's channel %zu has no valid scale",
                            i + 1);
            goto out;
        }
    for (i = 0; i < net->n_param; i++, p += 4)
        if (!isfinite(net->param[i] = get_f32(p))) {
            st = parus_fail(err, PARUS_E_FORMAT, "the network's weight %zu is not finite", i + 1);
            goto out;
        }
    *out = net;
    net = NULL;
    st = PARUS_OK;
out:
    parus__tcnn_free(net);
    return st;
}
