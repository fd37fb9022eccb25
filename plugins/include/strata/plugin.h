/*
 * strata/plugin.h — the C ABI of Strata plugins. The only file a plugin includes.
 *
 * A plugin is a shared library (.so) named in a [[plugin]] table of the
 * broker's configuration. It exports three functions, looked up with dlsym:
 *
 *   int  strata_plugin_versions(const int **versions);
 *        Sets *versions to the ABI versions the plugin supports and returns
 *        how many there are. The broker picks the highest one it knows and
 *        logs both lists; with none in common the plugin is not loaded.
 *
 *   int  strata_plugin_init(strata_plugin *plugin, const strata_broker_api *api,
 *                           int abi_version, const strata_option *options,
 *                           size_t option_count, void **plugin_data);
 *        Called once at start-up, before any client connects, on the main
 *        thread. Registers callbacks with api->register_callback. Returns
 *        STRATA_OK, or anything else to stop the broker's start-up (the
 *        broker logs the path and api->set_error's text, if any). After a
 *        failed init, cleanup is not called: the plugin frees what it made.
 *
 *   int  strata_plugin_cleanup(void *plugin_data, const strata_option *options,
 *                              size_t option_count);
 *        Called once at shutdown after the cores have stopped: no callback
 *        runs during or after it. A plugin stops its own threads here and
 *        must not complete an authentication request after it returns.
 *
 * Threads. Strata runs one event loop per core. Every callback but RELOAD
 * runs on a core's thread, and its event carries the core index (0 ..
 * api->core_count() - 1): a plugin may keep per-core state indexed by it
 * without locks. Callbacks of one core never run concurrently; callbacks of
 * different cores do. A callback must not block: file or network work goes
 * to the plugin's own thread. Basic authentication may answer later: the
 * callback returns STRATA_PENDING and the plugin calls api->auth_complete
 * once, from any thread; the broker posts the answer back to the client's
 * core. The connect timeout bounds the wait. RELOAD runs on core 0's thread.
 *
 * Ownership. Everything the broker passes (strings, events, client handles)
 * is the broker's and valid only during the callback, with one exception:
 * a strata_auth_request stays valid until api->auth_complete is called on
 * it. Strings are (pointer, length), not NUL-terminated; the plugin copies
 * what it keeps. What the plugin hands to the broker (a new topic, payload,
 * property) is copied by the broker during the call.
 *
 * Compatibility. Every event struct and the API table start with their size
 * in bytes: a newer broker appends fields and functions, a plugin reads
 * only what its own header declares. ABI version 1 is the first published
 * header; version 2 added enhanced authentication (STRATA_EVT_EXTENDED_AUTH
 * and api->auth_set_data). A plugin built against an older header keeps
 * loading in a newer broker.
 */
#ifndef STRATA_PLUGIN_H
#define STRATA_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_PLUGIN_ABI_VERSION 2

/* Return codes of init/cleanup and of the API functions. */
#define STRATA_OK 0
#define STRATA_ERR 1
#define STRATA_EINVAL 2 /* an argument was wrong (unknown event, bad handle, ...) */

/* Answers of authentication and ACL callbacks. */
#define STRATA_DEFER 0   /* no opinion: ask the next plugin, then the built-in checks */
#define STRATA_ALLOW 1
#define STRATA_DENY 2
#define STRATA_PENDING 3  /* basic authentication only: api->auth_complete answers later */
#define STRATA_CONTINUE 4 /* extended authentication: send AUTH 0x18 with the data set */

/* Answers of the message callback. */
#define STRATA_MSG_PASS 0 /* route the message (with any changes made) */
#define STRATA_MSG_DROP 1 /* do not route it; the publisher is still acknowledged */

/* Log levels of api->log. */
#define STRATA_LOG_DEBUG 0
#define STRATA_LOG_INFO 1
#define STRATA_LOG_WARN 2
#define STRATA_LOG_ERROR 3

/* Access asked of the ACL callback. */
#define STRATA_ACL_SUBSCRIBE 1 /* the topic is a subscription filter */
#define STRATA_ACL_PUBLISH 2   /* the topic is a topic name (a PUBLISH, or a will) */

/* Events (the `event` argument of register_callback and of the callback). */
#define STRATA_EVT_BASIC_AUTH 1    /* struct strata_evt_basic_auth; ALLOW, DENY, DEFER or PENDING */
#define STRATA_EVT_ACL_CHECK 2     /* struct strata_evt_acl_check; ALLOW, DENY or DEFER */
#define STRATA_EVT_MESSAGE 3       /* struct strata_evt_message; STRATA_MSG_PASS or _DROP */
#define STRATA_EVT_CONNECT 4       /* struct strata_evt_connect; return value ignored */
#define STRATA_EVT_DISCONNECT 5    /* struct strata_evt_disconnect; ignored */
#define STRATA_EVT_SUBSCRIBE 6     /* struct strata_evt_subscribe; ignored */
#define STRATA_EVT_UNSUBSCRIBE 7   /* struct strata_evt_unsubscribe; ignored */
#define STRATA_EVT_TICK 8          /* struct strata_evt_tick, once a second per core; ignored */
#define STRATA_EVT_RELOAD 9        /* struct strata_evt_reload (SIGHUP); STRATA_OK or an error */
#define STRATA_EVT_EXTENDED_AUTH 10 /* ABI 2: struct strata_evt_extended_auth */

typedef struct strata_plugin strata_plugin;             /* the broker's handle of one loaded plugin */
typedef struct strata_client strata_client;             /* a connected client; read with api->client_* */
typedef struct strata_auth_request strata_auth_request; /* a basic authentication waiting for an answer */

typedef struct strata_str {
  const char *data; /* not NUL-terminated; may be NULL when len is 0 */
  size_t len;
} strata_str;

typedef struct strata_option { /* one key = "value" of the plugin's options table */
  strata_str key;
  strata_str value;
} strata_option;

typedef struct strata_user_property {
  strata_str name;
  strata_str value;
} strata_user_property;

/* CONNECT without an Authentication Method. */
struct strata_evt_basic_auth {
  uint32_t size;
  uint32_t core;
  const strata_client *client; /* client id, address, certificate identity (no username yet) */
  strata_str username;
  strata_str password;
  int has_username;
  int has_password;
  strata_auth_request *request; /* for STRATA_PENDING: answer with api->auth_complete */
  void *reserved[4];
};

/* Before a PUBLISH (or a will) is accepted and before each SUBSCRIBE entry is granted. */
struct strata_evt_acl_check {
  uint32_t size;
  uint32_t core;
  const strata_client *client;
  int access; /* STRATA_ACL_PUBLISH or STRATA_ACL_SUBSCRIBE */
  strata_str topic;
  void *reserved[4];
};

/* An accepted PUBLISH, before rules and routing. Change it with
 * api->message_set_topic / _set_payload / _add_user_property /
 * _clear_user_properties; later plugins see the changes. */
struct strata_evt_message {
  uint32_t size;
  uint32_t core;
  strata_str client_id; /* of the publisher; empty for the broker's own messages */
  strata_str username;
  strata_str topic;
  strata_str payload;
  int qos;
  int retain;
  const strata_user_property *user_properties;
  size_t user_property_count;
  void *reserved[4];
};

/* A client's CONNACK 0x00 has been sent. */
struct strata_evt_connect {
  uint32_t size;
  uint32_t core;
  const strata_client *client;
  void *reserved[4];
};

/* A connected client is gone. reason_code: the MQTT reason code of its
 * DISCONNECT, or of the broker's (0x8B shutting down, 0x8D keep alive
 * timeout, 0x8E taken over, ...), or 0x80 when the connection dropped. */
struct strata_evt_disconnect {
  uint32_t size;
  uint32_t core;
  const strata_client *client;
  int reason_code;
  void *reserved[4];
};

struct strata_evt_subscribe { /* one granted SUBSCRIBE entry */
  uint32_t size;
  uint32_t core;
  const strata_client *client;
  strata_str filter;
  int qos; /* the granted maximum QoS */
  void *reserved[4];
};

struct strata_evt_unsubscribe { /* one UNSUBSCRIBE entry that removed a subscription */
  uint32_t size;
  uint32_t core;
  const strata_client *client;
  strata_str filter;
  void *reserved[4];
};

struct strata_evt_tick {
  uint32_t size;
  uint32_t core;
  int64_t now_ms; /* Unix time in milliseconds */
  void *reserved[4];
};

/* SIGHUP: the plugin's options as now configured (the code is not reloaded). */
struct strata_evt_reload {
  uint32_t size;
  uint32_t core; /* 0 */
  const strata_option *options;
  size_t option_count;
  void *reserved[4];
};

/* ABI 2. MQTT 5 enhanced authentication: CONNECT (or AUTH 0x19) with an
 * Authentication Method, then each AUTH 0x18. The first plugin that does
 * not DEFER at step 0 owns the exchange; its later steps come to it alone.
 * Answer ALLOW (set `username` with api->auth_set_username if it differs),
 * DENY, CONTINUE (with data from api->auth_set_data), or DEFER at step 0. */
struct strata_evt_extended_auth {
  uint32_t size;
  uint32_t core;
  const strata_client *client;
  strata_str method;
  strata_str data; /* the client's Authentication Data */
  int step;        /* 0 for CONNECT / AUTH 0x19, then 1, 2, ... */
  void *reserved[4];
};

typedef int (*strata_event_cb)(int event, void *event_data, void *userdata);

/* What the broker offers a plugin; passed to strata_plugin_init and valid
 * until cleanup returns. Functions past `size` are absent (older broker). */
typedef struct strata_broker_api {
  uint32_t size;
  uint32_t abi_version; /* the version the broker chose */

  /* Init only. Callbacks of one event run in the order of the [[plugin]] tables. */
  int (*register_callback)(strata_plugin *plugin, int event, strata_event_cb cb, void *userdata);
  /* Any thread. */
  void (*log)(strata_plugin *plugin, int level, strata_str message);
  /* Init only: the reason given when init fails. */
  void (*set_error)(strata_plugin *plugin, strata_str message);
  unsigned (*core_count)(void);
  strata_str (*node_name)(void); /* the broker host's name */

  strata_str (*client_id)(const strata_client *client);
  strata_str (*client_username)(const strata_client *client); /* empty before authentication */
  strata_str (*client_address)(const strata_client *client);  /* "address:port" */
  strata_str (*client_cert_identity)(const strata_client *client); /* verified certificate, or empty */
  int (*client_protocol_version)(const strata_client *client);    /* 4 (3.1.1) or 5 */

  /* Any thread, once per STRATA_PENDING request: STRATA_ALLOW, _DENY or
   * _DEFER; reason_code is the CONNACK code for DENY (0 picks 0x87). */
  int (*auth_complete)(strata_auth_request *request, int result, int reason_code);

  int (*message_set_topic)(struct strata_evt_message *msg, strata_str topic);
  int (*message_set_payload)(struct strata_evt_message *msg, strata_str payload);
  int (*message_add_user_property)(struct strata_evt_message *msg, strata_str name, strata_str value);
  int (*message_clear_user_properties)(struct strata_evt_message *msg);

  /* ABI 2 */
  int (*auth_set_data)(struct strata_evt_extended_auth *evt, strata_str data);
  int (*auth_set_username)(struct strata_evt_extended_auth *evt, strata_str username);

  void *reserved[8];
} strata_broker_api;

/* The three functions a plugin exports. */
typedef int (*strata_plugin_versions_fn)(const int **versions);
typedef int (*strata_plugin_init_fn)(strata_plugin *plugin, const strata_broker_api *api, int abi_version,
                                     const strata_option *options, size_t option_count, void **plugin_data);
typedef int (*strata_plugin_cleanup_fn)(void *plugin_data, const strata_option *options, size_t option_count);

#if defined(__GNUC__)
#define STRATA_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define STRATA_PLUGIN_EXPORT
#endif

STRATA_PLUGIN_EXPORT int strata_plugin_versions(const int **versions);
STRATA_PLUGIN_EXPORT int strata_plugin_init(strata_plugin *plugin, const strata_broker_api *api, int abi_version,
                                            const strata_option *options, size_t option_count,
                                            void **plugin_data);
STRATA_PLUGIN_EXPORT int strata_plugin_cleanup(void *plugin_data, const strata_option *options,
                                               size_t option_count);

/* A string literal or NUL-terminated string as a strata_str. */
#define STRATA_STR(s) strata_make_str(s)
static inline strata_str strata_make_str(const char *s) {
  strata_str r;
  size_t n = 0;
  if (s) {
    while (s[n]) ++n;
  }
  r.data = s;
  r.len = n;
  return r;
}

#ifdef __cplusplus
}
#endif

#endif /* STRATA_PLUGIN_H */
