/*
 * audit_log — writes connect, disconnect, (un)subscribe and publish events as
 * JSON lines, one object per line:
 *
 *   {"time_ms":1733472000123,"event":"connect","client_id":"c1","username":"u","address":"127.0.0.1:5000"}
 *   {"time_ms":...,"event":"subscribe","client_id":"c1","filter":"plant/#","qos":1}
 *   {"time_ms":...,"event":"publish","client_id":"c1","topic":"plant/a","qos":1,"retain":false,"bytes":12}
 *   {"time_ms":...,"event":"disconnect","client_id":"c1","reason_code":0}
 *
 *   {"time_ms":...,"event":"unsubscribe","client_id":"c1","filter":"plant/#"}
 *
 * Options: file = "audit.jsonl" (appended to; required).
 *
 * The callbacks run on the broker's cores and must not block, so they only
 * format the line and queue it; a writer thread of the plugin appends the
 * queued lines to the file and flushes after each batch. SIGHUP (reload)
 * reopens the file, so a rotated log is followed. Cleanup writes what is
 * queued before it returns.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strata/plugin.h"

typedef struct line {
  char *text;
  size_t len;
  struct line *next;
} line;

typedef struct state {
  strata_plugin *plugin;
  const strata_broker_api *api;
  pthread_t writer;
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  line *head, *tail;
  int stopping;
  char *path;    /* guarded by mutex */
  int reopen;    /* the writer reopens `path` before its next batch */
  FILE *file;    /* the writer's */
} state;

static const int versions[] = {1};

int strata_plugin_versions(const int **v) {
  *v = versions;
  return 1;
}

/* A growable buffer for one line. */
typedef struct buf {
  char *data;
  size_t len, cap;
} buf;

static void put(buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 128;
    while (cap < b->len + n + 1) cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) return;
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static void put_cstr(buf *b, const char *s) { put(b, s, strlen(s)); }

/* A JSON string: quotes, backslashes and control characters escaped. */
static void put_json(buf *b, strata_str s) {
  static const char hex[] = "0123456789abcdef";
  put(b, "\"", 1);
  for (size_t i = 0; i < s.len; ++i) {
    unsigned char c = (unsigned char)s.data[i];
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      put(b, esc, 2);
    } else if (c < 0x20) {
      char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      put(b, esc, 6);
    } else {
      put(b, (const char *)&c, 1);
    }
  }
  put(b, "\"", 1);
}

static void put_int(buf *b, long long v) {
  char n[32];
  int len = snprintf(n, sizeof n, "%lld", v);
  put(b, n, (size_t)len);
}

static void begin(buf *b, const char *event) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  put_cstr(b, "{\"time_ms\":");
  put_int(b, (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
  put_cstr(b, ",\"event\":\"");
  put_cstr(b, event);
  put_cstr(b, "\"");
}

static void field(buf *b, const char *name, strata_str value) {
  put_cstr(b, ",\"");
  put_cstr(b, name);
  put_cstr(b, "\":");
  put_json(b, value);
}

static void int_field(buf *b, const char *name, long long value) {
  put_cstr(b, ",\"");
  put_cstr(b, name);
  put_cstr(b, "\":");
  put_int(b, value);
}

/* Queues the finished line for the writer (takes b's memory). */
static void enqueue(state *s, buf *b) {
  put_cstr(b, "}\n");
  line *l = malloc(sizeof *l);
  if (!l || !b->data) {
    free(l);
    free(b->data);
    return;
  }
  l->text = b->data;
  l->len = b->len;
  l->next = NULL;
  pthread_mutex_lock(&s->mutex);
  if (s->tail) s->tail->next = l;
  else s->head = l;
  s->tail = l;
  pthread_cond_signal(&s->cond);
  pthread_mutex_unlock(&s->mutex);
}

static void *writer_main(void *arg) {
  state *s = arg;
  pthread_mutex_lock(&s->mutex);
  for (;;) {
    while (!s->head && !s->stopping && !s->reopen) pthread_cond_wait(&s->cond, &s->mutex);
    if (s->reopen) {
      s->reopen = 0;
      FILE *f = fopen(s->path, "a");
      if (f) {
        if (s->file) fclose(s->file);
        s->file = f;
      } else {
        s->api->log(s->plugin, STRATA_LOG_ERROR, STRATA_STR("cannot reopen the audit file; writing to the old one"));
      }
    }
    line *batch = s->head;
    s->head = s->tail = NULL;
    int stop = s->stopping;
    pthread_mutex_unlock(&s->mutex);
    while (batch) {
      line *next = batch->next;
      if (s->file) fwrite(batch->text, 1, batch->len, s->file);
      free(batch->text);
      free(batch);
      batch = next;
    }
    if (s->file) fflush(s->file);
    pthread_mutex_lock(&s->mutex);
    if (stop && !s->head) break;
  }
  pthread_mutex_unlock(&s->mutex);
  return NULL;
}

static int on_connect(int event, void *data, void *userdata) {
  (void)event;
  state *s = userdata;
  const struct strata_evt_connect *e = data;
  buf b = {0};
  begin(&b, "connect");
  field(&b, "client_id", s->api->client_id(e->client));
  field(&b, "username", s->api->client_username(e->client));
  field(&b, "address", s->api->client_address(e->client));
  enqueue(s, &b);
  return 0;
}

static int on_disconnect(int event, void *data, void *userdata) {
  (void)event;
  state *s = userdata;
  const struct strata_evt_disconnect *e = data;
  buf b = {0};
  begin(&b, "disconnect");
  field(&b, "client_id", s->api->client_id(e->client));
  int_field(&b, "reason_code", e->reason_code);
  enqueue(s, &b);
  return 0;
}

static int on_subscribe(int event, void *data, void *userdata) {
  (void)event;
  state *s = userdata;
  const struct strata_evt_subscribe *e = data;
  buf b = {0};
  begin(&b, "subscribe");
  field(&b, "client_id", s->api->client_id(e->client));
  field(&b, "filter", e->filter);
  int_field(&b, "qos", e->qos);
  enqueue(s, &b);
  return 0;
}

static int on_unsubscribe(int event, void *data, void *userdata) {
  (void)event;
  state *s = userdata;
  const struct strata_evt_unsubscribe *e = data;
  buf b = {0};
  begin(&b, "unsubscribe");
  field(&b, "client_id", s->api->client_id(e->client));
  field(&b, "filter", e->filter);
  enqueue(s, &b);
  return 0;
}

static int on_message(int event, void *data, void *userdata) {
  (void)event;
  state *s = userdata;
  const struct strata_evt_message *e = data;
  buf b = {0};
  begin(&b, "publish");
  field(&b, "client_id", e->client_id);
  field(&b, "topic", e->topic);
  int_field(&b, "qos", e->qos);
  put_cstr(&b, e->retain ? ",\"retain\":true" : ",\"retain\":false");
  int_field(&b, "bytes", (long long)e->payload.len);
  enqueue(s, &b);
  return STRATA_MSG_PASS;
}

static char *file_option(const strata_option *o, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (o[i].key.len == 4 && memcmp(o[i].key.data, "file", 4) == 0 && o[i].value.len > 0) {
      char *p = malloc(o[i].value.len + 1);
      if (!p) return NULL;
      memcpy(p, o[i].value.data, o[i].value.len);
      p[o[i].value.len] = '\0';
      return p;
    }
  }
  return NULL;
}

static int on_reload(int event, void *data, void *userdata) {
  (void)event;
  state *s = userdata;
  const struct strata_evt_reload *e = data;
  char *path = file_option(e->options, e->option_count);
  if (!path) return STRATA_ERR;
  pthread_mutex_lock(&s->mutex);
  free(s->path);
  s->path = path;
  s->reopen = 1;
  pthread_cond_signal(&s->cond);
  pthread_mutex_unlock(&s->mutex);
  return STRATA_OK;
}

int strata_plugin_init(strata_plugin *plugin, const strata_broker_api *api, int abi_version,
                       const strata_option *options, size_t option_count, void **plugin_data) {
  (void)abi_version;
  char *path = file_option(options, option_count);
  if (!path) {
    api->set_error(plugin, STRATA_STR("options.file is required (the JSON lines file to append to)"));
    return STRATA_ERR;
  }
  FILE *f = fopen(path, "a");
  if (!f) {
    char err[512];
    snprintf(err, sizeof err, "cannot open %s for appending", path);
    api->set_error(plugin, STRATA_STR(err));
    free(path);
    return STRATA_ERR;
  }
  state *s = calloc(1, sizeof *s);
  if (!s) {
    fclose(f);
    free(path);
    return STRATA_ERR;
  }
  s->plugin = plugin;
  s->api = api;
  s->path = path;
  s->file = f;
  pthread_mutex_init(&s->mutex, NULL);
  pthread_cond_init(&s->cond, NULL);
  if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
    fclose(f);
    free(path);
    free(s);
    api->set_error(plugin, STRATA_STR("cannot start the writer thread"));
    return STRATA_ERR;
  }
  *plugin_data = s;
  api->register_callback(plugin, STRATA_EVT_CONNECT, on_connect, s);
  api->register_callback(plugin, STRATA_EVT_DISCONNECT, on_disconnect, s);
  api->register_callback(plugin, STRATA_EVT_SUBSCRIBE, on_subscribe, s);
  api->register_callback(plugin, STRATA_EVT_UNSUBSCRIBE, on_unsubscribe, s);
  api->register_callback(plugin, STRATA_EVT_MESSAGE, on_message, s);
  api->register_callback(plugin, STRATA_EVT_RELOAD, on_reload, s);
  return STRATA_OK;
}

int strata_plugin_cleanup(void *plugin_data, const strata_option *options, size_t option_count) {
  (void)options;
  (void)option_count;
  state *s = plugin_data;
  pthread_mutex_lock(&s->mutex);
  s->stopping = 1;
  pthread_cond_signal(&s->cond);
  pthread_mutex_unlock(&s->mutex);
  pthread_join(s->writer, NULL);
  if (s->file) fclose(s->file);
  free(s->path);
  pthread_mutex_destroy(&s->mutex);
  pthread_cond_destroy(&s->cond);
  free(s);
  return STRATA_OK;
}
