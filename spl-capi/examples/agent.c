/*
 * agent.c: a minimal log agent on top of libspl_capi.
 *
 *   agent '<SPL>' FILE
 *
 * Reads FILE in 512 KB chunks (each line is one event in the field `content`, split at line
 * ends; a trailing '\r' is dropped), hands each chunk to the library as an Arrow struct array
 * without copying the text (a binary-view column whose views point into the chunk buffer, plus
 * an int64 `__time__`), and prints every output row as one JSON object per line: `__time__`,
 * the group tags as "__tag__:<key>", then the fields. Errors go to stderr; the pipeline's
 * metrics are printed to stderr at the end.
 *
 * Environment (all optional): SPL_AGENT_PROFILE (default logtail), SPL_AGENT_TIMEOUT_MS,
 * SPL_AGENT_MAX_MEMORY (bytes), SPL_AGENT_POLICY (pass-through, drop, fail, error-stream),
 * SPL_AGENT_TIME (the read time in Unix seconds; default now).
 *
 * Build: cc -I spl-capi/include spl-capi/examples/agent.c target/debug/libspl_capi.a \
 *           -lpthread -ldl -lm -o agent
 * Exit: 0 on success, 1 when a batch failed without a result, 2 on usage/compile errors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spl.h"

#define CHUNK_SIZE (512 * 1024)

/* Everything one input batch owns; freed by the struct array's release callback. */
struct batch {
    char *text;                  /* the chunk bytes, referenced by the views */
    size_t text_cap;             /* bytes allocated at text */
    uint8_t *views;              /* 16 bytes per row */
    int64_t *times;              /* __time__ per row */
    int64_t text_size[1];        /* variadic buffer sizes of the view column */
    const void *content_buffers[4];
    const void *time_buffers[2];
    const void *struct_buffers[1];
    struct ArrowArray content;
    struct ArrowArray time;
    struct ArrowArray *children[2];
};

static void release_child(struct ArrowArray *a) { a->release = NULL; }

/* Chunk buffers come back here when the library releases a batch, and the next read reuses
 * them: fresh memory for every chunk costs the kernel's page faults and page zeroing. */
#define POOL_SIZE 4
static struct pooled {
    char *p;
    size_t cap;
} pool[POOL_SIZE];
static int pooled;

/* A buffer of at least `need` bytes; its size in *cap. */
static char *buffer_take(size_t need, size_t *cap) {
    for (int i = 0; i < pooled; i++) {
        if (pool[i].cap >= need) {
            char *p = pool[i].p;
            *cap = pool[i].cap;
            pool[i] = pool[--pooled];
            return p;
        }
    }
    *cap = need + 64 * 1024; /* room for the next chunk's carried partial line */
    return malloc(*cap);
}

static void buffer_give(char *p, size_t cap) {
    if (pooled < POOL_SIZE) {
        pool[pooled].p = p;
        pool[pooled].cap = cap;
        pooled++;
    } else {
        free(p);
    }
}

static void release_batch(struct ArrowArray *a) {
    struct batch *b = (struct batch *)a->private_data;
    for (int i = 0; i < 2; i++) {
        if (b->children[i]->release) b->children[i]->release(b->children[i]);
    }
    buffer_give(b->text, b->text_cap);
    free(b->views);
    free(b->times);
    free(b);
    a->release = NULL;
}

/* The input schema is static and only borrowed by the library. */
static void release_static_schema(struct ArrowSchema *s) { (void)s; }
static struct ArrowSchema content_schema = {"vz", "content", NULL, ARROW_FLAG_NULLABLE, 0, NULL,
                                            NULL, release_static_schema, NULL};
static struct ArrowSchema time_schema = {"l", "__time__", NULL, ARROW_FLAG_NULLABLE, 0, NULL,
                                         NULL, release_static_schema, NULL};
static struct ArrowSchema *input_children[2] = {&content_schema, &time_schema};
static struct ArrowSchema input_schema = {"+s", "", NULL, 0, 2, input_children,
                                          NULL, release_static_schema, NULL};

/* Builds the struct array over `text` (ownership moves into the array): one row per line, each
 * line found once (the views grow as lines are found). */
static int build_batch(char *text, size_t text_cap, size_t len, int64_t now,
                       struct ArrowArray *out) {
    struct batch *b = calloc(1, sizeof *b);
    if (!b) return -1;
    b->text = text;
    b->text_cap = text_cap;
    size_t cap = len / 128 + 16, rows = 0, start = 0;
    b->views = malloc(cap * 16);
    if (!b->views) {
        free(b);
        return -1;
    }
    while (start < len) {
        if (rows == cap) {
            uint8_t *grown = realloc(b->views, 2 * cap * 16);
            if (!grown) {
                free(b->views);
                free(b);
                return -1;
            }
            b->views = grown;
            cap *= 2;
        }
        const char *nl = memchr(text + start, '\n', len - start);
        size_t i = nl ? (size_t)(nl - text) : len;
        size_t end = i;
        if (end > start && text[end - 1] == '\r') end--;
        int32_t n = (int32_t)(end - start);
        uint8_t *v = b->views + 16 * rows;
        memset(v, 0, 16);
        memcpy(v, &n, 4);
        if (n <= 12) {
            memcpy(v + 4, text + start, (size_t)n);
        } else {
            int32_t buffer = 0, offset = (int32_t)start;
            memcpy(v + 4, text + start, 4);
            memcpy(v + 8, &buffer, 4);
            memcpy(v + 12, &offset, 4);
        }
        rows++;
        start = i + 1;
    }
    b->times = malloc((rows ? rows : 1) * sizeof(int64_t));
    if (!b->times) {
        free(b->views);
        free(b);
        return -1;
    }
    for (size_t r = 0; r < rows; r++) b->times[r] = now;
    b->text_size[0] = (int64_t)len;
    b->content_buffers[0] = NULL; /* no nulls */
    b->content_buffers[1] = b->views;
    b->content_buffers[2] = b->text;
    b->content_buffers[3] = b->text_size;
    b->content = (struct ArrowArray){(int64_t)rows, 0, 0, 4, 0, b->content_buffers, NULL, NULL,
                                     release_child, NULL};
    b->time_buffers[0] = NULL;
    b->time_buffers[1] = b->times;
    b->time = (struct ArrowArray){(int64_t)rows, 0, 0, 2, 0, b->time_buffers, NULL, NULL,
                                  release_child, NULL};
    b->children[0] = &b->content;
    b->children[1] = &b->time;
    b->struct_buffers[0] = NULL;
    *out = (struct ArrowArray){(int64_t)rows, 0, 0, 1, 2, b->struct_buffers, b->children, NULL,
                               release_batch, b};
    return 0;
}

/* Output of one group, gathered here and written with one fwrite per 64 KB (a call per value
 * would take the stream's lock each time). */
struct out {
    FILE *file;
    size_t len;
    char buf[1 << 16];
};

static void out_flush(struct out *o) {
    fwrite(o->buf, 1, o->len, o->file);
    o->len = 0;
}

static void out_bytes(struct out *o, const char *p, size_t n) {
    if (o->len + n > sizeof o->buf) {
        out_flush(o);
        if (n > sizeof o->buf) {
            fwrite(p, 1, n, o->file);
            return;
        }
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

static void out_str(struct out *o, const char *s) { out_bytes(o, s, strlen(s)); }

static void out_char(struct out *o, char c) { out_bytes(o, &c, 1); }

static void out_int(struct out *o, long long v) {
    char digits[24];
    char *end = digits + sizeof digits, *p = end;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    out_bytes(o, p, (size_t)(end - p));
}

/* True when one of the 8 bytes of `w` is a quote, a backslash or a control character (the
 * bytes JSON strings escape): the classic "has a zero byte" test on three transforms. */
static int needs_escape8(uint64_t w) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    uint64_t zero_quote = (quote - ones) & ~quote;
    uint64_t zero_backslash = (backslash - ones) & ~backslash;
    uint64_t control = (w - ones * 0x20) & ~w;
    return ((zero_quote | zero_backslash | control) & highs) != 0;
}

/* Writes `s` as a JSON string: runs of bytes that need no escape are copied at once. */
static void json_string(struct out *o, const char *s, size_t n) {
    out_char(o, '"');
    size_t run = 0, i = 0;
    /* Eight bytes at a time while none needs an escape. */
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (needs_escape8(w)) break;
        i += 8;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out_bytes(o, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': out_str(o, "\\\""); break;
        case '\\': out_str(o, "\\\\"); break;
        case '\n': out_str(o, "\\n"); break;
        case '\r': out_str(o, "\\r"); break;
        case '\t': out_str(o, "\\t"); break;
        default: {
            char u[8];
            snprintf(u, sizeof u, "\\u%04x", c);
            out_str(o, u);
        }
        }
    }
    out_bytes(o, s + run, n - run);
    out_char(o, '"');
}

static int is_valid(const struct ArrowArray *a, int64_t i) {
    const uint8_t *bits = (const uint8_t *)a->buffers[0];
    if (a->n_buffers == 0) return 0;
    if (!bits) return 1;
    return (bits[i >> 3] >> (i & 7)) & 1;
}

/* A column's `"name":` as written before each of its values. */
struct name {
    char *text;
    size_t len;
};

/* Where names are escaped before they are copied into their `struct name`. */
static struct out name_scratch;

/* How print_group writes a column. */
enum column_kind { SKIP, TIME, BIGINT, TEXT };

/* Prints the rows of one exported group (text mode: children are `u` or `l`). */
static void print_group(FILE *file, const SplResult *result, size_t g, size_t tags) {
    struct ArrowArray array;
    struct ArrowSchema schema;
    if (spl_result_export(result, g, &array, &schema) != SPL_OK) {
        fprintf(stderr, "export failed: %s\n", spl_last_error());
        return;
    }
    /* Each column's kind and its `"name":` text are found once per group, not once per row. */
    enum column_kind *kinds = calloc((size_t)schema.n_children + 1, sizeof *kinds);
    struct name *names = calloc((size_t)schema.n_children + 1, sizeof *names);
    if (!kinds || !names) {
        free(kinds);
        free(names);
        fprintf(stderr, "out of memory\n");
        array.release(&array);
        schema.release(&schema);
        return;
    }
    for (int64_t c = 0; c < schema.n_children; c++) {
        const struct ArrowSchema *cs = schema.children[c];
        if (strcmp(cs->name, "__time__") == 0) kinds[c] = TIME;
        else if (strcmp(cs->format, "l") == 0) kinds[c] = BIGINT;
        else if (strcmp(cs->format, "u") == 0) kinds[c] = TEXT;
        else kinds[c] = SKIP;
        /* A name too long for the buffer is written at each row instead (len stays 0). */
        size_t n = strlen(cs->name);
        if (n < sizeof name_scratch.buf / 8) {
            name_scratch.len = 0;
            json_string(&name_scratch, cs->name, n);
            out_char(&name_scratch, ':');
            names[c].text = malloc(name_scratch.len);
            if (names[c].text) {
                memcpy(names[c].text, name_scratch.buf, name_scratch.len);
                names[c].len = name_scratch.len;
            }
        }
    }
    static struct out out_group;
    struct out *out = &out_group;
    out->file = file;
    out->len = 0;
    for (int64_t r = 0; r < array.length; r++) {
        int first = 1;
        out_char(out, '{');
        for (int64_t c = 0; c < schema.n_children; c++) {
            const struct ArrowArray *ca = array.children[c];
            int64_t i = array.offset + ca->offset + r;
            if (kinds[c] != TIME) continue;
            if (is_valid(ca, i)) {
                out_str(out, "\"__time__\":");
                out_int(out, (long long)((const int64_t *)ca->buffers[1])[i]);
                first = 0;
            }
        }
        for (size_t t = 0; t < tags; t++) {
            SplStr k, v;
            if (spl_result_group_tag(result, g, t, &k, &v) != SPL_OK) continue;
            if (!first) out_char(out, ',');
            out_str(out, "\"__tag__:");
            out_bytes(out, k.ptr, k.len);
            out_str(out, "\":");
            json_string(out, v.ptr, v.len);
            first = 0;
        }
        for (int64_t c = 0; c < schema.n_children; c++) {
            const struct ArrowSchema *cs = schema.children[c];
            const struct ArrowArray *ca = array.children[c];
            int64_t i = array.offset + ca->offset + r;
            if (kinds[c] == SKIP || kinds[c] == TIME || !is_valid(ca, i)) continue;
            if (!first) out_char(out, ',');
            if (names[c].len) {
                out_bytes(out, names[c].text, names[c].len);
            } else {
                json_string(out, cs->name, strlen(cs->name));
                out_char(out, ':');
            }
            if (kinds[c] == BIGINT) {
                out_int(out, (long long)((const int64_t *)ca->buffers[1])[i]);
            } else {
                const int32_t *offsets = (const int32_t *)ca->buffers[1];
                const char *data = (const char *)ca->buffers[2];
                json_string(out, data + offsets[i], (size_t)(offsets[i + 1] - offsets[i]));
            }
            first = 0;
        }
        out_str(out, "}\n");
    }
    out_flush(out);
    free(kinds);
    for (int64_t c = 0; c < schema.n_children; c++) free(names[c].text);
    free(names);
    array.release(&array);
    schema.release(&schema);
}

static int process(const SplPipeline *p, char *text, size_t cap, size_t len, int64_t now,
                   long batch_no) {
    struct ArrowArray array;
    if (build_batch(text, cap, len, now, &array) != 0) {
        free(text);
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    SplBatchMeta meta = {NULL, 0, now, 0};
    SplResult *result = NULL;
    SplStatus st = spl_process(p, &array, &input_schema, &meta, &result);
    if (st != SPL_OK) {
        fprintf(stderr, "batch %ld: %s: %s\n", batch_no, spl_status_name(st), spl_last_error());
    }
    if (!result) return 1;
    size_t groups = 0;
    spl_result_group_count(result, &groups);
    for (size_t g = 0; g < groups; g++) {
        SplGroupInfo info;
        if (spl_result_group_info(result, g, &info) != SPL_OK) continue;
        print_group(info.is_error ? stderr : stdout, result, g, info.tag_count);
    }
    spl_result_free(result);
    return 0;
}

static int policy_of(const char *s) {
    if (!s) return SPL_POLICY_DEFAULT;
    if (!strcmp(s, "pass-through")) return SPL_POLICY_PASS_THROUGH;
    if (!strcmp(s, "drop")) return SPL_POLICY_DROP;
    if (!strcmp(s, "fail")) return SPL_POLICY_FAIL;
    if (!strcmp(s, "error-stream")) return SPL_POLICY_ERROR_STREAM;
    return -1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s '<SPL>' FILE   (libspl_capi %s)\n", argv[0], spl_version());
        return 2;
    }
    SplOptions options;
    spl_options_default(&options);
    options.profile = getenv("SPL_AGENT_PROFILE");
    if (getenv("SPL_AGENT_TIMEOUT_MS")) options.batch_timeout_ms = atoll(getenv("SPL_AGENT_TIMEOUT_MS"));
    if (getenv("SPL_AGENT_MAX_MEMORY")) options.max_batch_memory = atoll(getenv("SPL_AGENT_MAX_MEMORY"));
    options.error_policy = policy_of(getenv("SPL_AGENT_POLICY"));
    int64_t now = getenv("SPL_AGENT_TIME") ? atoll(getenv("SPL_AGENT_TIME")) : (int64_t)time(NULL);

    SplPipeline *p = NULL;
    char *diagnostics = NULL;
    SplStatus st = spl_compile(argv[1], &options, &p, &diagnostics);
    if (st != SPL_OK) {
        fprintf(stderr, "%s: %s\n%s\n", spl_status_name(st), spl_last_error(),
                diagnostics ? diagnostics : "");
        if (diagnostics) spl_string_free(diagnostics);
        return 2;
    }
    spl_string_free(diagnostics);

    FILE *in = fopen(argv[2], "rb");
    if (!in) {
        perror(argv[2]);
        spl_pipeline_free(p);
        return 2;
    }
    static char out_buffer[1 << 16];
    setvbuf(stdout, out_buffer, _IOFBF, sizeof out_buffer);

    int failed = 0;
    long batch_no = 0;
    char *carry = NULL;
    size_t carry_len = 0;
    for (;;) {
        size_t cap = 0;
        char *text = buffer_take(carry_len + CHUNK_SIZE, &cap);
        if (!text) { failed = 1; break; }
        if (carry_len) memcpy(text, carry, carry_len);
        free(carry);
        carry = NULL;
        size_t n = fread(text + carry_len, 1, CHUNK_SIZE, in);
        size_t len = carry_len + n;
        carry_len = 0;
        int eof = n < CHUNK_SIZE;
        size_t cut = len;
        if (!eof) {
            while (cut > 0 && text[cut - 1] != '\n') cut--;
            if (cut == 0) { /* one line longer than a chunk: keep reading it */
                carry = text;
                carry_len = len;
                continue;
            }
            carry_len = len - cut;
            carry = malloc(carry_len ? carry_len : 1);
            if (!carry) { free(text); failed = 1; break; }
            memcpy(carry, text + cut, carry_len);
        }
        if (cut > 0) failed |= process(p, text, cap, cut, now, ++batch_no);
        else free(text);
        if (eof) break;
    }
    free(carry);
    while (pooled > 0) free(pool[--pooled].p);
    fclose(in);
    fflush(stdout);

    SplMetrics m;
    if (spl_pipeline_metrics(p, &m) == SPL_OK) {
        fprintf(stderr,
                "metrics: batches=%llu failed_batches=%llu rows_in=%llu rows_out=%llu "
                "error_rows=%llu budget_exceeded=%llu process_us=%llu peak_memory_bytes=%llu\n",
                (unsigned long long)m.batches, (unsigned long long)m.failed_batches,
                (unsigned long long)m.rows_in, (unsigned long long)m.rows_out,
                (unsigned long long)m.error_rows, (unsigned long long)m.budget_exceeded,
                (unsigned long long)(m.process_ns / 1000), (unsigned long long)m.peak_memory_bytes);
    }
    spl_pipeline_free(p);
    return failed;
}
