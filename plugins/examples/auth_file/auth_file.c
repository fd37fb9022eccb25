/*
 * auth_file — a username/password allow-list for Strata.
 *
 * Options ([plugin.options]):
 *   file  = "users.txt"   lines "username:password"; '#' starts a comment
 *   async = "true"        answer from a worker thread (STRATA_PENDING and
 *                         api->auth_complete), as a plugin that asks a
 *                         directory over the network would; default "false"
 *
 * A listed user with the right password is allowed, with a wrong one (or
 * none) denied; a user not in the list, or a client without a username, is
 * deferred to the next plugin and then to the broker's own [auth].
 * SIGHUP re-reads the file (and the options).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strata/plugin.h"

typedef struct user {
  char *name;
  char *password;
} user;

typedef struct user_list {
  user *users;
  size_t count;
} user_list;

/* A request the worker answers. */
typedef struct job {
  strata_auth_request *request;
  int result;
  struct job *next;
} job;

typedef struct state {
  strata_plugin *plugin;
  const strata_broker_api *api;
  pthread_rwlock_t lock; /* guards list: cores read, reload writes */
  user_list list;
  int async;
  /* the worker: a queue of answers to send later */
  pthread_t worker;
  int worker_running;
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  job *head, *tail;
  int stopping;
} state;

static const int versions[] = {1, 2};

int strata_plugin_versions(const int **v) {
  *v = versions;
  return 2;
}

static const strata_option *find_option(const strata_option *o, size_t n, const char *key) {
  size_t k = strlen(key);
  for (size_t i = 0; i < n; ++i) {
    if (o[i].key.len == k && memcmp(o[i].key.data, key, k) == 0) return &o[i];
  }
  return NULL;
}

static char *dup_str(strata_str s) {
  char *p = malloc(s.len + 1);
  if (p) {
    if (s.len) memcpy(p, s.data, s.len);
    p[s.len] = '\0';
  }
  return p;
}

static void free_list(user_list *l) {
  for (size_t i = 0; i < l->count; ++i) {
    free(l->users[i].name);
    free(l->users[i].password);
  }
  free(l->users);
  l->users = NULL;
  l->count = 0;
}

/* Reads `path` into `out`; on failure writes why into `err`. */
static int read_list(const char *path, user_list *out, char *err, size_t err_len) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, err_len, "cannot open %s", path);
    return -1;
  }
  char line[1024];
  int lineno = 0;
  size_t cap = 0;
  out->users = NULL;
  out->count = 0;
  while (fgets(line, sizeof line, f)) {
    ++lineno;
    size_t n = strcspn(line, "\r\n");
    line[n] = '\0';
    if (n == 0 || line[0] == '#') continue;
    char *colon = strchr(line, ':');
    if (!colon || colon == line) {
      snprintf(err, err_len, "%s:%d: expected username:password", path, lineno);
      fclose(f);
      free_list(out);
      return -1;
    }
    *colon = '\0';
    if (out->count == cap) {
      cap = cap ? cap * 2 : 16;
      user *grown = realloc(out->users, cap * sizeof(user));
      if (!grown) {
        fclose(f);
        free_list(out);
        snprintf(err, err_len, "out of memory");
        return -1;
      }
      out->users = grown;
    }
    out->users[out->count].name = strdup(line);
    out->users[out->count].password = strdup(colon + 1);
    ++out->count;
  }
  fclose(f);
  return 0;
}

/* STRATA_ALLOW, _DENY or _DEFER for the credentials of `e`. */
static int decide(state *s, const struct strata_evt_basic_auth *e) {
  int result = STRATA_DEFER;
  if (!e->has_username) return result;
  pthread_rwlock_rdlock(&s->lock);
  for (size_t i = 0; i < s->list.count; ++i) {
    const user *u = &s->list.users[i];
    if (strlen(u->name) != e->username.len || memcmp(u->name, e->username.data, e->username.len) != 0) continue;
    size_t pl = strlen(u->password);
    result = (e->has_password && pl == e->password.len && memcmp(u->password, e->password.data, pl) == 0)
                 ? STRATA_ALLOW
                 : STRATA_DENY;
    break;
  }
  pthread_rwlock_unlock(&s->lock);
  return result;
}

static void *worker_main(void *arg) {
  state *s = arg;
  pthread_mutex_lock(&s->mutex);
  for (;;) {
    while (!s->head && !s->stopping) pthread_cond_wait(&s->cond, &s->mutex);
    if (!s->head) break; /* stopping and nothing left */
    job *j = s->head;
    s->head = j->next;
    if (!s->head) s->tail = NULL;
    pthread_mutex_unlock(&s->mutex);
    s->api->auth_complete(j->request, j->result, 0);
    free(j);
    pthread_mutex_lock(&s->mutex);
  }
  pthread_mutex_unlock(&s->mutex);
  return NULL;
}

static int on_basic_auth(int event, void *data, void *userdata) {
  (void)event;
  state *s = userdata;
  struct strata_evt_basic_auth *e = data;
  int result = decide(s, e);
  if (!s->async) return result;
  job *j = malloc(sizeof *j);
  if (!j) return result;
  j->request = e->request;
  j->result = result;
  j->next = NULL;
  pthread_mutex_lock(&s->mutex);
  if (s->tail) s->tail->next = j;
  else s->head = j;
  s->tail = j;
  pthread_cond_signal(&s->cond);
  pthread_mutex_unlock(&s->mutex);
  return STRATA_PENDING;
}

static int load(state *s, const strata_option *options, size_t count, char *err, size_t err_len) {
  const strata_option *file = find_option(options, count, "file");
  if (!file) {
    snprintf(err, err_len, "options.file is required (the username:password list)");
    return -1;
  }
  char *path = dup_str(file->value);
  user_list fresh;
  int rc = read_list(path, &fresh, err, err_len);
  free(path);
  if (rc != 0) return rc;
  pthread_rwlock_wrlock(&s->lock);
  free_list(&s->list);
  s->list = fresh;
  pthread_rwlock_unlock(&s->lock);
  return 0;
}

static int on_reload(int event, void *data, void *userdata) {
  (void)event;
  state *s = userdata;
  const struct strata_evt_reload *e = data;
  char err[512];
  if (load(s, e->options, e->option_count, err, sizeof err) != 0) {
    s->api->log(s->plugin, STRATA_LOG_ERROR, STRATA_STR(err));
    return STRATA_ERR;
  }
  s->api->log(s->plugin, STRATA_LOG_INFO, STRATA_STR("user list reloaded"));
  return STRATA_OK;
}

int strata_plugin_init(strata_plugin *plugin, const strata_broker_api *api, int abi_version,
                       const strata_option *options, size_t option_count, void **plugin_data) {
  (void)abi_version;
  state *s = calloc(1, sizeof *s);
  if (!s) return STRATA_ERR;
  s->plugin = plugin;
  s->api = api;
  pthread_rwlock_init(&s->lock, NULL);
  pthread_mutex_init(&s->mutex, NULL);
  pthread_cond_init(&s->cond, NULL);
  *plugin_data = s;
  char err[512];
  if (load(s, options, option_count, err, sizeof err) != 0) {
    api->set_error(plugin, STRATA_STR(err));
    strata_plugin_cleanup(s, options, option_count); /* a failed init gets no cleanup call */
    *plugin_data = NULL;
    return STRATA_ERR;
  }
  const strata_option *async = find_option(options, option_count, "async");
  s->async = async && async->value.len == 4 && memcmp(async->value.data, "true", 4) == 0;
  if (s->async) {
    if (pthread_create(&s->worker, NULL, worker_main, s) != 0) {
      api->set_error(plugin, STRATA_STR("cannot start the worker thread"));
      strata_plugin_cleanup(s, options, option_count);
      *plugin_data = NULL;
      return STRATA_ERR;
    }
    s->worker_running = 1;
  }
  api->register_callback(plugin, STRATA_EVT_BASIC_AUTH, on_basic_auth, s);
  api->register_callback(plugin, STRATA_EVT_RELOAD, on_reload, s);
  return STRATA_OK;
}

int strata_plugin_cleanup(void *plugin_data, const strata_option *options, size_t option_count) {
  (void)options;
  (void)option_count;
  state *s = plugin_data;
  if (!s) return STRATA_OK;
  if (s->worker_running) {
    pthread_mutex_lock(&s->mutex);
    s->stopping = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mutex);
    pthread_join(s->worker, NULL); /* answers what is queued, then ends */
  }
  free_list(&s->list);
  pthread_rwlock_destroy(&s->lock);
  pthread_mutex_destroy(&s->mutex);
  pthread_cond_destroy(&s->cond);
  free(s);
  return STRATA_OK;
}
