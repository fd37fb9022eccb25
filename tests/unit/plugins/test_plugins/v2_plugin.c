/* The current-ABI test plugin of tests/unit/plugins. By username, basic
 * authentication answers: "allow", "deny", "pending" (ALLOW from a thread
 * of its own), "pending-deny" (DENY 0x86 from a thread); anything else
 * DEFER. Messages: topic drop/# is dropped, rename/X becomes renamed/X,
 * payload "upper" becomes "UPPER". Extended authentication method
 * TEST-ECHO: step 0 answers CONTINUE with "challenge", step 1 ALLOW as
 * user "echo" when the data is "response", else DENY. Option fail = "why"
 * makes init fail with that reason. Ticks (core 0) and reloads are counted in the
 * exported counters. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strata/plugin.h"

static const strata_broker_api *g_api;
static const int versions[] = {1, 2, 7};

STRATA_PLUGIN_EXPORT int test_reloads;
STRATA_PLUGIN_EXPORT _Atomic int test_ticks; /* ticks seen on core 0 */
STRATA_PLUGIN_EXPORT char test_last_option[64];

#define MAX_THREADS 64
static pthread_t threads[MAX_THREADS];
static int thread_count;
static pthread_mutex_t threads_mutex = PTHREAD_MUTEX_INITIALIZER;

int strata_plugin_versions(const int **v) {
  *v = versions;
  return 3;
}

static int is(strata_str s, const char *text) { return s.len == strlen(text) && memcmp(s.data, text, s.len) == 0; }

typedef struct answer {
  strata_auth_request *request;
  int result;
  int reason;
} answer;

static void *answer_later(void *arg) {
  answer *a = arg;
  struct timespec ts = {0, 5 * 1000 * 1000};
  nanosleep(&ts, NULL);
  g_api->auth_complete(a->request, a->result, a->reason);
  free(a);
  return NULL;
}

static int on_basic_auth(int event, void *data, void *userdata) {
  (void)event;
  (void)userdata;
  struct strata_evt_basic_auth *e = data;
  if (!e->has_username) return STRATA_DEFER;
  if (is(e->username, "allow")) return STRATA_ALLOW;
  if (is(e->username, "deny")) return STRATA_DENY;
  int pending = is(e->username, "pending"), pending_deny = is(e->username, "pending-deny");
  if (!pending && !pending_deny) return STRATA_DEFER;
  answer *a = malloc(sizeof *a);
  a->request = e->request;
  a->result = pending ? STRATA_ALLOW : STRATA_DENY;
  a->reason = pending ? 0 : 0x86;
  pthread_mutex_lock(&threads_mutex);
  if (thread_count == MAX_THREADS || pthread_create(&threads[thread_count], NULL, answer_later, a) != 0) {
    pthread_mutex_unlock(&threads_mutex);
    free(a);
    return STRATA_DENY;
  }
  ++thread_count;
  pthread_mutex_unlock(&threads_mutex);
  return STRATA_PENDING;
}

static int on_message(int event, void *data, void *userdata) {
  (void)event;
  (void)userdata;
  struct strata_evt_message *m = data;
  if (m->topic.len >= 5 && memcmp(m->topic.data, "drop/", 5) == 0) return STRATA_MSG_DROP;
  if (m->topic.len >= 7 && memcmp(m->topic.data, "rename/", 7) == 0) {
    char topic[256] = "renamed/";
    size_t rest = m->topic.len - 7 < 200 ? m->topic.len - 7 : 200;
    memcpy(topic + 8, m->topic.data + 7, rest);
    strata_str t = {topic, 8 + rest};
    g_api->message_set_topic(m, t);
  }
  if (is(m->payload, "upper")) g_api->message_set_payload(m, STRATA_STR("UPPER"));
  return STRATA_MSG_PASS;
}

static int on_extended(int event, void *data, void *userdata) {
  (void)event;
  (void)userdata;
  struct strata_evt_extended_auth *e = data;
  if (!is(e->method, "TEST-ECHO")) return STRATA_DEFER;
  if (e->step == 0) {
    g_api->auth_set_data(e, STRATA_STR("challenge"));
    return STRATA_CONTINUE;
  }
  if (!is(e->data, "response")) return STRATA_DENY;
  g_api->auth_set_username(e, STRATA_STR("echo"));
  return STRATA_ALLOW;
}

static int on_tick(int event, void *data, void *userdata) {
  (void)event;
  (void)userdata;
  const struct strata_evt_tick *t = data;
  if (t->core == 0 && t->now_ms > 1700000000000LL) ++test_ticks;
  return 0;
}

static int on_reload(int event, void *data, void *userdata) {
  (void)event;
  (void)userdata;
  const struct strata_evt_reload *e = data;
  ++test_reloads;
  if (e->option_count > 0) {
    size_t n = e->options[0].value.len < 63 ? e->options[0].value.len : 63;
    memcpy(test_last_option, e->options[0].value.data, n);
    test_last_option[n] = '\0';
  }
  return STRATA_OK;
}

int strata_plugin_init(strata_plugin *plugin, const strata_broker_api *api, int abi_version,
                       const strata_option *options, size_t option_count, void **plugin_data) {
  *plugin_data = NULL;
  for (size_t i = 0; i < option_count; ++i) {
    if (is(options[i].key, "fail")) {
      api->set_error(plugin, options[i].value);
      return STRATA_ERR;
    }
  }
  if (abi_version != 2) return STRATA_ERR;
  g_api = api;
  test_reloads = 0;
  test_ticks = 0;
  api->register_callback(plugin, STRATA_EVT_BASIC_AUTH, on_basic_auth, NULL);
  api->register_callback(plugin, STRATA_EVT_MESSAGE, on_message, NULL);
  api->register_callback(plugin, STRATA_EVT_EXTENDED_AUTH, on_extended, NULL);
  api->register_callback(plugin, STRATA_EVT_RELOAD, on_reload, NULL);
  api->register_callback(plugin, STRATA_EVT_TICK, on_tick, NULL);
  return STRATA_OK;
}

int strata_plugin_cleanup(void *plugin_data, const strata_option *options, size_t option_count) {
  (void)plugin_data;
  (void)options;
  (void)option_count;
  pthread_mutex_lock(&threads_mutex);
  for (int i = 0; i < thread_count; ++i) pthread_join(threads[i], NULL);
  thread_count = 0;
  pthread_mutex_unlock(&threads_mutex);
  return STRATA_OK;
}
