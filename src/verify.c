/*
 * verify.c - every stored limit re-derived (parus/verify.h says what is compared).
 *
 * The season's recorded inputs are read first (assessment_inputs); the recorded policy, debts
 * file and crop table are loaded by the same readers an assessment uses, from a private temporary
 * copy of their recorded bytes, after checking those bytes against their recorded SHA-256. Then
 * every stored parcel result is turned into the credit rule's evidence by the mapping assess
 * itself uses (assess_int.h), the parcels are grouped by farmer, and each farmer's limit is
 * computed by parus_credit_limit and compared, part by part, with the stored limit.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parus/assess.h"
#include "parus/crops.h"
#include "parus/policy.h"
#include "parus/season.h"
#include "parus/verify.h"

#include "assess_int.h"
#include "util_int.h"

#define NONE "(none)"

void parus_verify_options_init(parus_verify_options *opt)
{
    memset(opt, 0, sizeof *opt);
}

parus_status parus_file_sha256(const char *path, char hex[65], parus_error *err)
{
    char *data = NULL;
    size_t n = 0;
    parus_status st = parus__read_file(path, (size_t)1 << 30, &data, &n, err);
    if (st != PARUS_OK)
        return st;
    parus__sha256(data, n, hex);
    free(data);
    return PARUS_OK;
}

/* ---- what is read from the store ---- */

typedef struct vparcel {
    char *parcel_id, *farmer_id, *crop, *stored_reasons;
    parus_parcel_result r; /* the numbers and enums; its strings are not kept */
    bool unknown_crop, not_classified;
    double overlap_share; /* of its land, what the stored overlaps keep from credit */
} vparcel;

typedef struct vlimit {
    char *farmer_id, *parts, *reasons, *repayment_date;
    int64_t limit_cny, debt_fen;
} vlimit;

typedef struct verify {
    parus_store *store;
    const parus_verify_options *opt;
    parus_verify_stats st;
    parus_error *err;
    char season[PARUS_SEASON_WINDOW_TEXT];
    int64_t start_day, end_day;
    /* recorded inputs */
    bool have_inputs;
    char *policy_bytes, *debts_bytes, *crops_bytes;
    size_t policy_size, debts_size, crops_size;
    bool has_policy, has_debts, has_crops;
    parus_policy policy;
    parus_debts debts;
    parus_crop_table crops;
    bool debts_loaded, crops_loaded;
    /* the season */
    vparcel *p;
    size_t n_p, cap_p;
    vlimit *l;
    size_t n_l, cap_l;
    bool nomem;
} verify;

static char *dup_or_null(const char *s, bool *nomem)
{
    char *d;
    if (!s)
        return NULL;
    if (!(d = parus__strdup(s)))
        *nomem = true;
    return d;
}

static void *dup_bytes(const void *b, size_t n, bool *nomem)
{
    char *d;
    if (!b)
        return NULL;
    if (!(d = malloc(n + 1))) {
        *nomem = true;
        return NULL;
    }
    memcpy(d, b, n);
    d[n] = '\0';
    return d;
}

static int take_inputs(const parus_assess_inputs *in, void *ctx)
{
    verify *v = ctx;
    v->have_inputs = true;
    snprintf(v->st.model_version, sizeof v->st.model_version, "%s",
             in->model_version ? in->model_version : "");
    snprintf(v->st.policy_hash, sizeof v->st.policy_hash, "%s",
             in->policy_hash ? in->policy_hash : "");
    snprintf(v->st.debts_hash, sizeof v->st.debts_hash, "%s", in->debts_hash ? in->debts_hash : "");
    snprintf(v->st.crops_hash, sizeof v->st.crops_hash, "%s", in->crops_hash ? in->crops_hash : "");
    snprintf(v->st.evidence_recorded, sizeof v->st.evidence_recorded, "%s",
             in->evidence_digest ? in->evidence_digest : "");
    v->has_policy = in->policy != NULL;
    v->has_debts = in->debts != NULL;
    v->has_crops = in->crops != NULL;
    v->policy_bytes = dup_bytes(in->policy, in->policy_size, &v->nomem);
    v->policy_size = in->policy_size;
    v->debts_bytes = dup_bytes(in->debts, in->debts_size, &v->nomem);
    v->debts_size = in->debts_size;
    v->crops_bytes = dup_bytes(in->crops, in->crops_size, &v->nomem);
    v->crops_size = in->crops_size;
    return 0;
}

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    void *q;
    size_t c;
    if (need <= *cap)
        return true;
    c = *cap ? *cap * 2 : 256;
    while (c < need)
        c *= 2;
    if (!(q = realloc(*p, c * size)))
        return false;
    *p = q;
    *cap = c;
    return true;
}

static int take_result(const parus_parcel_result *r, void *ctx)
{
    verify *v = ctx;
    vparcel *p;
    if (!r->farmer_id) /* no farmer: no limit (as assess) */
        return 0;
    if (!grow((void **)&v->p, &v->cap_p, v->n_p + 1, sizeof *v->p)) {
        v->nomem = true;
        return 1;
    }
    p = &v->p[v->n_p++];
    memset(p, 0, sizeof *p);
    p->r = *r;
    p->parcel_id = dup_or_null(r->parcel_id, &v->nomem);
    p->farmer_id = dup_or_null(r->farmer_id, &v->nomem);
    p->crop = dup_or_null(r->crop, &v->nomem);
    p->stored_reasons = dup_or_null(r->credit_reasons, &v->nomem);
    /* the strings the mapping reads, kept for it */
    p->r.health_class = dup_or_null(r->health_class, &v->nomem);
    p->r.flags = dup_or_null(r->flags, &v->nomem);
    p->r.parcel_id = p->parcel_id;
    p->r.farmer_id = p->farmer_id;
    p->r.crop = p->crop;
    p->r.credit_reasons = p->stored_reasons;
    p->r.season = p->r.first_date = p->r.last_date = p->r.peer_group = NULL;
    p->r.health_reference = p->r.area_check = p->r.reason = p->r.assessed_at = NULL;
    /* a retired parcel's reason, which the mapping reads (held, never counted) */
    if (r->reason && strncmp(r->reason, PARUS_ASSESS_REASON_RETIRED ":",
                             strlen(PARUS_ASSESS_REASON_RETIRED) + 1) == 0)
        p->r.reason = PARUS_ASSESS_REASON_RETIRED ":";
    p->unknown_crop = r->reason && strncmp(r->reason, PARUS_ASSESS_REASON_UNKNOWN_CROP ":",
                                           strlen(PARUS_ASSESS_REASON_UNKNOWN_CROP) + 1) == 0;
    p->not_classified = r->reason && strncmp(r->reason, PARUS_ASSESS_REASON_NOT_CLASSIFIED ":",
                                             strlen(PARUS_ASSESS_REASON_NOT_CLASSIFIED) + 1) == 0;
    return v->nomem ? 1 : 0;
}

static int take_limit(const parus_limit *l, void *ctx)
{
    verify *v = ctx;
    vlimit *x;
    if (!grow((void **)&v->l, &v->cap_l, v->n_l + 1, sizeof *v->l)) {
        v->nomem = true;
        return 1;
    }
    x = &v->l[v->n_l++];
    memset(x, 0, sizeof *x);
    x->farmer_id = dup_or_null(l->farmer_id, &v->nomem);
    x->parts = dup_or_null(l->parts ? l->parts : "", &v->nomem);
    x->reasons = dup_or_null(l->reasons ? l->reasons : "", &v->nomem);
    x->repayment_date = dup_or_null(l->repayment_date, &v->nomem);
    x->limit_cny = l->limit_cny;
    x->debt_fen = l->debt_fen;
    return v->nomem ? 1 : 0;
}

static void release(verify *v)
{
    size_t i;
    for (i = 0; i < v->n_p; i++) {
        free(v->p[i].parcel_id);
        free(v->p[i].farmer_id);
        free(v->p[i].crop);
        free(v->p[i].stored_reasons);
        free((char *)v->p[i].r.health_class);
        free((char *)v->p[i].r.flags);
    }
    free(v->p);
    for (i = 0; i < v->n_l; i++) {
        free(v->l[i].farmer_id);
        free(v->l[i].parts);
        free(v->l[i].reasons);
        free(v->l[i].repayment_date);
    }
    free(v->l);
    free(v->policy_bytes);
    free(v->debts_bytes);
    free(v->crops_bytes);
    if (v->debts_loaded)
        parus_debts_release(&v->debts);
    if (v->crops_loaded)
        parus_crop_table_release(&v->crops);
}

static parus_status nomem(verify *v)
{
    return parus_fail(v->err, PARUS_E_NOMEM, "out of memory verifying season %s", v->season);
}

/* ---- differences ---- */

static parus_status diff(verify *v, const char *farmer, const char *parcel, const char *item,
                         const char *stored, const char *recomputed, size_t *n_farmer)
{
    parus_verify_diff d;
    v->st.n_diffs++;
    if (n_farmer)
        (*n_farmer)++;
    if (!v->opt->on_diff)
        return PARUS_OK;
    d.farmer_id = farmer;
    d.parcel_id = parcel;
    d.item = item;
    d.stored = stored ? stored : NONE;
    d.recomputed = recomputed ? recomputed : NONE;
    if (v->err)
        parus_error_init(v->err);
    if (v->opt->on_diff(&d, v->opt->ctx) != 0)
        return v->err && v->err->code != PARUS_OK
                   ? v->err->code
                   : parus_fail(v->err, PARUS_E_INTERNAL, "verify: stopped by the caller");
    return PARUS_OK;
}

static parus_status diff_int(verify *v, const char *farmer, const char *parcel, const char *item,
                             int64_t stored, int64_t recomputed, size_t *n_farmer)
{
    char a[32], b[32];
    if (stored == recomputed)
        return PARUS_OK;
    snprintf(a, sizeof a, "%lld", (long long)stored);
    snprintf(b, sizeof b, "%lld", (long long)recomputed);
    return diff(v, farmer, parcel, item, a, b, n_farmer);
}

static parus_status diff_text(verify *v, const char *farmer, const char *parcel, const char *item,
                              const char *stored, const char *recomputed, size_t *n_farmer)
{
    if ((!stored && !recomputed) || (stored && recomputed && strcmp(stored, recomputed) == 0))
        return PARUS_OK;
    return diff(v, farmer, parcel, item, stored, recomputed, n_farmer);
}

/* The value of key in "k=v;k=v" (copied into buf), or NULL. */
static const char *part_of(const char *parts, const char *key, char *buf, size_t n)
{
    size_t k = strlen(key);
    const char *p = parts;
    while (p && *p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > k && memcmp(p, key, k) == 0 && p[k] == '=') {
            snprintf(buf, n, "%.*s", (int)(len - k - 1), p + k + 1);
            return buf;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

/* Every key of either parts text, compared. */
static parus_status diff_parts(verify *v, const char *farmer, const char *stored,
                               const char *recomputed, size_t *n_farmer)
{
    const char *lists[2] = {recomputed, stored};
    size_t w;
    parus_status st = PARUS_OK;
    for (w = 0; w < 2 && st == PARUS_OK; w++) {
        const char *p = lists[w];
        while (p && *p && st == PARUS_OK) {
            const char *end = strchr(p, ';'), *eq = strchr(p, '=');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            char key[64], item[80], a[64], b[64];
            if (eq && eq < p + len && (size_t)(eq - p) < sizeof key) {
                const char *sa, *sb;
                snprintf(key, sizeof key, "%.*s", (int)(eq - p), p);
                sa = part_of(stored, key, a, sizeof a);
                sb = part_of(recomputed, key, b, sizeof b);
                /* a key of the recomputed list is compared in the first round; the second
                 * round only reports stored keys the recomputation has not */
                /* a part the stored limit lacks and the recomputation finds zero came in after
                 * that limit was assessed (haircut_overlap_fen, say): nothing differs */
                if ((w == 0 || !sb) && !(!sa && sb && strcmp(sb, "0") == 0)) {
                    snprintf(item, sizeof item, "parts.%s", key);
                    st = diff_text(v, farmer, NULL, item, sa, sb, n_farmer);
                }
            }
            p = end ? end + 1 : NULL;
        }
    }
    return st;
}

/* ---- the recorded inputs ---- */

/* The recorded bytes into a private temporary file, loaded by load(path). */
static parus_status with_temp_copy(verify *v, const char *bytes, size_t n, const char *what,
                                   parus_status (*load)(verify *v, const char *path))
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    int fd;
    size_t done = 0;
    parus_status st;

    snprintf(path, sizeof path, "%s/parus-verify-XXXXXX", dir && *dir ? dir : "/tmp");
    fd = mkstemp(path);
    if (fd < 0)
        return parus_fail(v->err, PARUS_E_IO,
                          "verify: cannot make a temporary copy of the "
                          "recorded %s: %s",
                          what, strerror(errno));
    while (done < n) {
        ssize_t k = write(fd, bytes + done, n - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = errno;
            close(fd);
            unlink(path);
            return parus_fail(v->err, PARUS_E_IO,
                              "verify: cannot write a temporary copy of the recorded %s: %s", what,
                              strerror(e));
        }
        done += (size_t)k;
    }
    close(fd);
    st = load(v, path);
    unlink(path);
    if (st != PARUS_OK)
        parus_error_prefix(v->err, "the recorded %s of season %s (a copy at '%s')", what, v->season,
                           path);
    return st;
}

static parus_status load_policy(verify *v, const char *path)
{
    return parus_policy_load(path, &v->policy, v->err);
}

static parus_status load_debts(verify *v, const char *path)
{
    parus_status st = parus_debts_load(path, NULL, 0, &v->debts, v->err);
    v->debts_loaded = st == PARUS_OK;
    return st;
}

static parus_status load_crops(verify *v, const char *path)
{
    parus_status st = parus_crop_table_load(path, &v->crops, v->err);
    v->crops_loaded = st == PARUS_OK;
    return st;
}

/* The recorded bytes must still be what their hash says. */
static parus_status check_recorded(verify *v, const char *what, const char *bytes, size_t n,
                                   const char *hash)
{
    char h[65];
    if (!bytes)
        return PARUS_OK;
    parus__sha256(bytes, n, h);
    return diff_text(v, NULL, NULL, what, hash, h, NULL);
}

/* A current file against the recorded hash. */
static parus_status compare_current(verify *v, const char *path, const char *recorded,
                                    parus_verify_file *out, char hex[65])
{
    parus_status st;
    if (!path)
        return PARUS_OK;
    if ((st = parus_file_sha256(path, hex, v->err)) != PARUS_OK)
        return st;
    *out = strcmp(hex, recorded) == 0 ? PARUS_VERIFY_FILE_SAME : PARUS_VERIFY_FILE_DIFFERS;
    return PARUS_OK;
}

static parus_status inputs(verify *v)
{
    parus_status st;
    st = parus_store_get_assess_inputs(v->store, v->season, take_inputs, v, v->err);
    if (st != PARUS_OK)
        return st;
    if (v->nomem)
        return nomem(v);
    if ((st = check_recorded(v, "recorded policy (SHA-256 of its bytes)", v->policy_bytes,
                             v->policy_size, v->st.policy_hash)) != PARUS_OK ||
        (st = check_recorded(v, "recorded debts (SHA-256 of their bytes)", v->debts_bytes,
                             v->debts_size, v->st.debts_hash)) != PARUS_OK ||
        (st = check_recorded(v, "recorded crop table (SHA-256 of its bytes)", v->crops_bytes,
                             v->crops_size, v->st.crops_hash)) != PARUS_OK)
        return st;
    /* the evidence: observations deleted, added or edited, or a tile re-dated, by hand since the
     * limits were written (no trigger sees a single observation) */
    if ((st = parus_store_season_evidence(v->store, v->season, v->st.evidence_now,
                                          &v->st.evidence_tiles, &v->st.evidence_observations,
                                          v->err)) != PARUS_OK)
        return st;
    if (v->st.evidence_recorded[0] &&
        (st = diff_text(v, NULL, NULL,
                        "evidence (the season's tiles and their observations, as digested when "
                        "its limits were written: some were added, removed or edited since)",
                        v->st.evidence_recorded, v->st.evidence_now, NULL)) != PARUS_OK)
        return st;
    if (v->has_policy) {
        st = with_temp_copy(v, v->policy_bytes, v->policy_size, "policy", load_policy);
        if (st != PARUS_OK)
            return st;
    } else if (strcmp(v->st.policy_hash, "builtin") == 0) {
        parus_policy_init(&v->policy);
    } else {
        return parus_fail(v->err, PARUS_E_NOT_FOUND,
                          "season %s recorded the policy %s but not its bytes: its limits "
                          "cannot be re-derived",
                          v->season, v->st.policy_hash);
    }
    if (v->has_debts && (st = with_temp_copy(v, v->debts_bytes, v->debts_size, "debts file",
                                             load_debts)) != PARUS_OK)
        return st;
    if (v->has_crops && (st = with_temp_copy(v, v->crops_bytes, v->crops_size, "crop table",
                                             load_crops)) != PARUS_OK)
        return st;
    if ((st = compare_current(v, v->opt->policy_path, v->st.policy_hash, &v->st.policy_file,
                              v->st.current_policy_hash)) != PARUS_OK ||
        (st = compare_current(v, v->opt->debts_path, v->st.debts_hash, &v->st.debts_file,
                              v->st.current_debts_hash)) != PARUS_OK ||
        (st = compare_current(v, v->opt->crops_path, v->st.crops_hash, &v->st.crops_file,
                              v->st.current_crops_hash)) != PARUS_OK)
        return st;
    return PARUS_OK;
}

/* ---- farmers ---- */

static int cmp_parcel_farmer(const void *x, const void *y)
{
    const vparcel *p = x, *q = y;
    int c = strcmp(p->farmer_id, q->farmer_id);
    return c ? c : strcmp(p->parcel_id, q->parcel_id);
}

static int cmp_limit_farmer(const void *x, const void *y)
{
    return strcmp(((const vlimit *)x)->farmer_id, ((const vlimit *)y)->farmer_id);
}

static const char *format_day_or_null(int64_t day, char buf[11])
{
    if (day == PARUS_CREDIT_NO_DAY)
        return NULL;
    parus__format_day(day, buf);
    return buf;
}

/* One farmer: parcels p[0..n) (n may be 0) and the stored limit l (may be NULL). */
static parus_status farmer(verify *v, const char *farmer_id, vparcel *p, size_t n, const vlimit *l,
                           parus_credit_parcel *cp, parus_credit_parcel_result *pr)
{
    parus_credit_result cr;
    parus_verify_farmer f;
    char parts[1024], reasons[512], repay[11], a[32], b[32];

    size_t i, n_diffs = 0;
    bool unknown = false, notc = false;
    int64_t debt = v->debts_loaded ? parus_debts_find(&v->debts, farmer_id) : 0;
    parus_status st;

    for (i = 0; i < n; i++) {
        const parus_crop *row =
            v->crops_loaded ? parus_crop_table_find(&v->crops, p[i].crop) : NULL;
        int64_t harvest = p[i].crop && row ? parus__crop_harvest_day(row, v->start_day, v->end_day)
                                           : PARUS_CREDIT_NO_DAY;
        parus__credit_parcel_of_result(&p[i].r, harvest, &cp[i]);
        cp[i].overlap_share = p[i].overlap_share;
        unknown = unknown || p[i].unknown_crop;
        notc = notc || p[i].not_classified;
    }
    st = parus_credit_limit(&v->policy, cp, n, debt, &cr, pr, v->err);
    if (st != PARUS_OK) {
        /* the stored evidence does not even make a limit: a difference, not a stop */
        char why[sizeof v->err->msg];
        snprintf(why, sizeof why, "%s", v->err ? v->err->msg : "the credit rule failed");
        if (l) {
            snprintf(a, sizeof a, "%lld", (long long)l->limit_cny);
            v->st.stored_total_cny += l->limit_cny;
        }
        v->st.n_farmers_differ++;
        return diff(v, farmer_id, NULL, "limit", l ? a : NULL, why, NULL);
    }
    v->st.recomputed_total_cny += cr.limit_cny;
    if (!l) {
        snprintf(b, sizeof b, "%lld", (long long)cr.limit_cny);
        st = diff(v, farmer_id, NULL, "limit", NULL, b, &n_diffs);
    } else {
        v->st.stored_total_cny += l->limit_cny;
        parus__credit_parts_text(&cr, parts, sizeof parts);
        parus__limit_reasons_text(cr.reasons, unknown, notc, reasons, sizeof reasons);
        st = diff_int(v, farmer_id, NULL, "limit_cny", l->limit_cny, cr.limit_cny, &n_diffs);
        if (st == PARUS_OK)
            st = diff_parts(v, farmer_id, l->parts, parts, &n_diffs);
        if (st == PARUS_OK)
            st = diff_int(v, farmer_id, NULL, "debt_fen", l->debt_fen, debt, &n_diffs);
        if (st == PARUS_OK)
            st = diff_text(v, farmer_id, NULL, "reasons", l->reasons, reasons, &n_diffs);
        if (st == PARUS_OK)
            st = diff_text(v, farmer_id, NULL, "repayment_date", l->repayment_date,
                           cr.limit_cny > 0 ? format_day_or_null(cr.repayment_day, repay) : NULL,
                           &n_diffs);
    }
    for (i = 0; i < n && st == PARUS_OK; i++) {
        char pr_reasons[256];
        parus_credit_reasons_format(pr[i].reasons, pr_reasons, sizeof pr_reasons);
        st = diff_int(v, farmer_id, p[i].parcel_id, "credit_counted", p[i].r.credit_counted,
                      pr[i].counted ? 1 : 0, &n_diffs);
        if (st == PARUS_OK)
            st = diff_int(v, farmer_id, p[i].parcel_id, "credit_value_fen", p[i].r.credit_value_fen,
                          pr[i].value_fen, &n_diffs);
        if (st == PARUS_OK)
            st = diff_text(v, farmer_id, p[i].parcel_id, "credit_reasons",
                           p[i].stored_reasons ? p[i].stored_reasons : "", pr_reasons, &n_diffs);
    }
    if (st != PARUS_OK)
        return st;
    v->st.n_farmers_differ += n_diffs > 0;
    if (v->opt->on_farmer) {
        f.farmer_id = farmer_id;
        f.n_parcels = n;
        f.has_stored = l != NULL;
        f.stored_limit_cny = l ? l->limit_cny : 0;
        f.recomputed = &cr;
        f.n_diffs = n_diffs;
        if (v->err)
            parus_error_init(v->err);
        if (v->opt->on_farmer(&f, v->opt->ctx) != 0)
            return v->err && v->err->code != PARUS_OK
                       ? v->err->code
                       : parus_fail(v->err, PARUS_E_INTERNAL, "verify: stopped by the caller");
    }
    return PARUS_OK;
}

static int cmp_parcel_id(const void *x, const void *y)
{
    return strcmp(((const vparcel *)x)->parcel_id, ((const vparcel *)y)->parcel_id);
}

static int cmp_key_parcel(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const vparcel *)elem)->parcel_id);
}

/* Land two parcels claim counts once, as the assessment counted it: the stored overlaps under
 * the recorded policy's rule (assess_credit.c, the one mapping both use). */
static int visit_overlap(const parus_overlap *o, void *ctx)
{
    verify *v = ctx;
    vparcel *pa = bsearch(o->parcel_a, v->p, v->n_p, sizeof *v->p, cmp_key_parcel);
    vparcel *pb = bsearch(o->parcel_b, v->p, v->n_p, sizeof *v->p, cmp_key_parcel);
    parus__overlap_add(v->policy.overlap, o, pa ? &pa->overlap_share : NULL,
                       pb ? &pb->overlap_share : NULL);
    return 0;
}

static parus_status farmers(verify *v)
{
    parus_credit_parcel *cp = NULL;
    parus_credit_parcel_result *pr = NULL;
    size_t i = 0, k = 0, j, max_n = 1;
    parus_status st = PARUS_OK;

    qsort(v->p, v->n_p, sizeof *v->p, cmp_parcel_id);
    for (i = 0; i < v->n_p; i++)
        v->p[i].overlap_share = 0.0;
    st = parus_store_overlaps_foreach(v->store, NULL, visit_overlap, v, NULL, v->err);
    if (st != PARUS_OK)
        return st;
    qsort(v->p, v->n_p, sizeof *v->p, cmp_parcel_farmer);
    qsort(v->l, v->n_l, sizeof *v->l, cmp_limit_farmer);
    for (i = 0; i < v->n_p; i = j) {
        for (j = i + 1; j < v->n_p && strcmp(v->p[j].farmer_id, v->p[i].farmer_id) == 0; j++)
            ;
        if (j - i > max_n)
            max_n = j - i;
    }
    if (!(cp = malloc(max_n * sizeof *cp)) || !(pr = malloc(max_n * sizeof *pr))) {
        free(cp);
        return nomem(v);
    }
    /* the two sorted lists side by side */
    i = 0;
    while (st == PARUS_OK && (i < v->n_p || k < v->n_l)) {
        const char *fp = i < v->n_p ? v->p[i].farmer_id : NULL;
        const char *fl = k < v->n_l ? v->l[k].farmer_id : NULL;
        int c = !fp ? 1 : !fl ? -1 : strcmp(fp, fl);
        v->st.n_farmers++;
        if (c > 0) {
            /* a stored limit without any stored evidence */
            char a[32];
            snprintf(a, sizeof a, "%lld", (long long)v->l[k].limit_cny);
            v->st.stored_total_cny += v->l[k].limit_cny;
            st = diff(v, fl, NULL, "limit", a, NULL, NULL);
            v->st.n_farmers_differ++;
            k++;
            continue;
        }
        for (j = i + 1; j < v->n_p && strcmp(v->p[j].farmer_id, fp) == 0; j++)
            ;
        v->st.n_parcels += j - i;
        st = farmer(v, fp, v->p + i, j - i, c == 0 ? &v->l[k] : NULL, cp, pr);
        if (c == 0)
            k++;
        i = j;
    }
    free(cp);
    free(pr);
    return st;
}

parus_status parus_verify_season(parus_store *store, const parus_verify_options *opt,
                                 parus_verify_stats *stats, parus_error *err)
{
    verify v;
    size_t length_days;
    parus_status st;

    memset(&v, 0, sizeof v);
    v.store = store;
    v.opt = opt;
    v.err = err;
    if (!store || !opt || !opt->season)
        return parus_fail(err, PARUS_E_INVALID, "verify: missing store, options or season");
    st = parus_season_parse_window(opt->season, &v.start_day, &length_days, err);
    if (st != PARUS_OK)
        return st;
    parus_season_window_text(v.start_day, length_days, v.season, sizeof v.season);
    v.end_day = v.start_day + (int64_t)length_days - 1;

    st = inputs(&v);
    if (st == PARUS_OK) {
        st = parus_store_results_foreach(store, v.season, take_result, &v, err);
        if (st != PARUS_OK && v.nomem)
            st = nomem(&v);
    }
    if (st == PARUS_OK) {
        st = parus_store_limits_foreach(store, v.season, take_limit, &v, err);
        if (st != PARUS_OK && v.nomem)
            st = nomem(&v);
    }
    if (st == PARUS_OK && v.nomem)
        st = nomem(&v);
    if (st == PARUS_OK)
        st = farmers(&v);
    if (st == PARUS_OK && stats)
        *stats = v.st;
    release(&v);
    return st;
}
