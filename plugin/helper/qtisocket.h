/* qtisocket-ts native helper (N-API addon, ABI-stable: one build serves the embedded Node 18 and the
 * system Node 20).
 *
 * It does only what JavaScript cannot do on a GStreamer thread without blocking the JS thread:
 * element class set-up (metadata, pad templates, properties, vfunc trampolines), sockets with
 * SCM_RIGHTS, memfd, interruptible waits, building/describing GstBuffers and releasing them, and
 * the safety checks of what it maps (each memory against its fd, video metas against the buffer).
 * Every decision about a stream (settings, greetings, caps, which wire the peer speaks, what is wrong
 * with a message, errors and warnings) is taken by the TypeScript element, called through
 * qs_js_call() with plain bytes when something changes; every buffer of either wire is encoded
 * (encode.c) and decoded (decode.c) natively, from what the element said.
 */
#pragma once

#include <gst/allocators/allocators.h>
#include <gst/base/base.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <node_api.h>
#include <string.h>

#include "layout.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (qs_sink_debug);
GST_DEBUG_CATEGORY_EXTERN (qs_src_debug);

/* ---- JS hooks (kinds must match lib/native.ts Hook): the element's typed methods (lib/element.ts
 * HOOKS reads the arguments, once), and what each returns, by name (QsJsResult) ------------------- */
typedef enum {
  QS_HOOK_START = 1,            /* onStart() -> {path, maxInFlight, error}                     */
  QS_HOOK_STOP = 2,             /* onStop()                                                     */
  QS_HOOK_SET_PROPERTY = 3,     /* validateProperty(str = name, data = value) -> {error}        */
  QS_HOOK_FINALIZE = 4,         /* fire and forget                                              */
  QS_HOOK_SET_CAPS = 5,         /* sink: onSetCaps(str = caps) -> {data = CAPS item, vendor}    */
  QS_HOOK_HANDSHAKE = 6,        /* sink: onHandshake(data = greeting, silent) -> {data, takes}  */
  QS_HOOK_RENDER = 7,           /* sink: onRender(data = description) -> {data, fds, error}     */
  QS_HOOK_EOS = 8,              /* sink: onEos() -> {data}                                      */
  QS_HOOK_CONNECTED = 9,        /* src: onConnected(busy) -> {data = greeting}                  */
  QS_HOOK_MESSAGE = 10,         /* src: onMessage(data, fds) -> {action, data, caps, capsHint, mode} */
  QS_HOOK_DISCONNECTED = 11,    /* both: onDisconnected(held buffers / errno) -> {warning}      */
  QS_HOOK_NO_RECEIVER = 12,     /* sink: onNoReceiver(errno, str = reason) -> {warning, error}  */
  QS_HOOK_PEER_MESSAGE = 13,    /* sink: onPeerMessage(data)                                    */
} QsHook;

/* src MESSAGE actions (lib/native.ts Action) */
typedef enum {
  QS_ACTION_NONE = 0,
  QS_ACTION_BUFFER = 1,
  QS_ACTION_EOS = 2,
  QS_ACTION_ERROR = 3,
  QS_ACTION_DISCONNECT = 4,
  QS_ACTION_DROP = 5,           /* a buffer message refused: data holds its u64 id */
} QsAction;

/* sink HANDSHAKE: number passed when the receiver stayed silent (the vendor's); the result's `takes`
 * says what the receiver takes (lib/native.ts Takes) */
#define QS_HANDSHAKE_SILENT (-1)
enum { QS_TAKES_INLINE = 1, QS_TAKES_CACHE = 2, QS_TAKES_BUSY = 4, QS_TAKES_VENDOR = 8, QS_TAKES_NO_SKIP = 16 };

typedef struct {
  /* out */
  gint action;
  GBytes *data;
  GArray *fds;                  /* gint indices */
  gchar *caps;
  gchar *path;
  gchar *peer;                  /* a peer greeted us: who it is */
  gchar *warning;
  gchar *error;
  gint max_inflight;             /* sink, START: buffers the receiver may hold (0: not said) */
  gint takes;                   /* sink, HANDSHAKE: what the receiver takes (QS_TAKES_*) */
  gboolean caps_hint;           /* src, MESSAGE: the caps are only a hint (the vendor's wire) */
  gboolean skip_slow;           /* sink, START: a receiver holding max-in-flight misses buffers */
  gboolean unixfd;              /* both, START: wire=unixfd, upstream GStreamer's unixfd wire */
  gint mode;                    /* src: QsMode, when the element has read a greeting (-1: not said) */
  GArray *vendor;               /* sink, SET_CAPS: the vendor's template: media, tensor type, n tensors,
                                 * then per tensor n and its dimensions */
} QsJsResult;

void qs_js_result_clear (QsJsResult * r);



typedef struct _QsClass QsClass;
typedef struct _QsInstance QsInstance;

/* Calls the class's JS dispatch function with (hook, element pointer, data, str, number).
 * From the JS thread it calls directly; from any other thread it queues the call and waits, until
 * it returns or, if cancel is given, until *cancel becomes TRUE (then returns FALSE; the call still
 * runs later and its result is dropped). Returns FALSE if JS threw (message in result->error) or
 * the wait was cancelled. */
gboolean qs_js_call (QsInstance * inst, QsHook hook, const guint8 * data, gsize len,
    const gchar * str, gint64 number, volatile gint * cancel, QsJsResult * result);
/* Queues a call and does not wait; the warning or error it returns is posted by the JS thread. */
void qs_js_post (QsInstance * inst, QsHook hook, const guint8 * data, gsize len, gint64 number);
void qs_js_init (void);
gboolean qs_js_make_dispatch (napi_env env, napi_value fn, const gchar * name,
    napi_threadsafe_function * tsfn);
gboolean qs_js_is_js_thread (void);

/* ---- element classes and instances ------------------------------------------------------------- */
typedef enum { QS_ROLE_SINK, QS_ROLE_SRC } QsRole;

struct _QsClass {
  GType type;
  QsRole role;
  gchar *factory;
  napi_threadsafe_function tsfn;
  napi_ref dispatch;
  napi_env env;
  guint n_props;
  GParamSpec **props;           /* index = prop_id - 1 */
  /* parent implementations we chain to */
  void (*parent_constructed) (GObject *);
  gboolean (*parent_sink_event) (GstBaseSink *, GstEvent *);
  GstStateChangeReturn (*parent_change_state) (GstElement *, GstStateChange);
  gboolean (*parent_src_query) (GstBaseSrc *, GstQuery *);
  guint signal_connected, signal_disconnected;
};

typedef struct {
  gint refcount;
  gint fd;
  GMutex lock;                  /* serialises sends */
  gboolean dead;
  guint64 n_released;           /* src: releases sent on this connection */
  guint64 serial;               /* never the same for two connections of the process */
  GHashTable *cache;            /* src, fd cache (1.2): the sender's id -> QsCached; under lock */
  gboolean warned_unsealed;     /* src: said once that this sender's memory is copied */
  gint64 since;                 /* src: when we began serving it (monotonic, µs) */
  gboolean heard;               /* src: it has sent a message */
  gint mode;                    /* src: what the element found this sender speaks (QsMode) */
  GBytes *caps;                 /* src, our wire: the CAPS body the element took on this connection */
  gboolean stream;              /* upstream's unixfd wire: a stream socket, {type, size} headers (channel.c) */
} QsConn;

/* src: what a sender speaks, as the element says when it has read the greeting (result "mode"):
 * our wire, 1.0/1.1 (fds in each message) or 1.2 (the fd cache), or the vendor's once the caps of
 * its stream are negotiated: decoded natively (decode.c) */
typedef enum { QS_MODE_UNKNOWN = 0, QS_MODE_OURS = 1, QS_MODE_OURS_CACHED = 2, QS_MODE_VENDOR = 3,
  QS_MODE_UNIXFD = 4            /* upstream GStreamer's unixfdsink (wire=unixfd), once its caps came */
} QsMode;

/* src: an fd the sender sent once and names by id afterwards (protocol 1.2); each memory made on it
 * holds a reference, and so does the cache until the sender makes us forget it */
typedef struct {
  gint refcount;
  gint fd;
  guint64 size;
  guint kind;                   /* QS_MEM_FD or QS_MEM_DMABUF */
  const gchar *problem;         /* why it cannot be mapped (then kind is 0) */
  GMutex map_lock;
  gpointer map;                 /* QS_MEM_FD: the one read-only mapping its memories share (rxmem.c) */
} QsCached;

void qs_cached_unref (gpointer cached);
/* rxmem.c: a read-only fd memory of maxsize bytes that shares the cached fd's mapping (it holds a
 * reference to the cache entry); qs_cached_unmap when the entry goes */
GstMemory *qs_rx_memory_new (QsCached * cached, gsize maxsize);
void qs_cached_unmap (QsCached * cached);
/* limits shared with TypeScript (layout.h, from lib/protocol/layout.ts) */
#define QS_VENDOR_MAX_BLOCKS QS_LIMIT_VENDOR_BLOCKS
#define QS_MAX_CACHED QS_LIMIT_CACHED

/* sink: one receiver, and what is kept per receiver: the buffers it holds (each a reference: a
 * buffer goes back upstream when every receiver it went to has returned it or left), the fd cache of
 * its connection, what it takes and its counters (the sink's release thread reads its messages). With mode=connect the sink has
 * at most one (the receiver it connected to); with mode=listen, one per receiver that connected. The
 * tables are under the instance's lock; the cache and flags belong to the streaming thread. */
typedef struct {
  gint refcount;
  guint number;                 /* 1, 2, ...: the order receivers came in, for logs and stats */
  gchar *name;                  /* what it said it is */
  QsConn *conn;
  volatile gint gone;           /* the release thread saw it go: to be reaped */
  volatile gint connected;      /* client-connected announced, client-disconnected not yet */
  GHashTable *inflight;         /* guint64 id -> GstBuffer it holds */
  gboolean takes_inline;        /* protocol >= 1.1 */
  gboolean takes_cache;         /* protocol >= 1.2: fds cached by id */
  gboolean no_skip;             /* it must not miss buffers (a recorder): never skipped, waited for */
  gboolean vendor;              /* the vendor's receiver (it never greeted): their wire */
  gboolean unixfd;              /* upstream's unixfdsrc (wire=unixfd): their wire, on a stream socket */
  gboolean warned;              /* upstream's unixfdsrc: told once of a buffer their wire cannot carry */
  gboolean caps_sent;           /* the CAPS item went on this connection */
  /* the fd cache (1.2): fd number -> the id it knows the file by; ids it may forget that have not
   * reached it yet */
  GHashTable *fd_cache;
  guint32 next_cache_id;
  GArray *forget;
  /* the vendor's RETURN_BUFFER names buf_ids, not buffers: buf_id -> GQueue of the ids of the
   * messages holding it, oldest first; message id -> blocks not returned yet */
  GHashTable *vendor_out, *vendor_left;
  gint64 since;
  guint64 n_sent, n_released, n_skipped, n_fds_sent;
} QsPeer;

QsConn *qs_conn_new (gint fd);
QsConn *qs_conn_ref (QsConn * c);
void qs_conn_unref (QsConn * c);
void qs_conn_kill (QsConn * c);

struct _QsInstance {
  GstElement *element;          /* not a reference: the instance lives in the element's qdata */
  QsClass *klass;
  GValue *props;
  GMutex lock;
  GCond cond;
  gint wake_fd;                 /* eventfd: written by unlock and stop */
  volatile gint flushing;
  gchar *path;                  /* socket path, as approved by JS at start */
  gboolean unixfd;              /* wire=unixfd: upstream GStreamer's wire (the sink listens, the src connects) */

  /* connection (sink: to the receiver; src: from the sender) */
  QsConn *conn;
  gint listen_fd;               /* src */
  dev_t listen_dev;
  ino_t listen_ino;

  /* sink */
  GPtrArray *peers;             /* QsPeer: the receivers served (under lock) */
  guint n_peers_ever;
  gboolean skip_slow;           /* a receiver holding max-in-flight misses buffers (else all wait) */
  guint64 next_id;
  gboolean warned_no_receiver;
  gint pending_fd;              /* connected, not greeted yet */
  gint64 pending_since;
  volatile gint peer_connected; /* src: client-connected was announced, client-disconnected not yet */
  gboolean pending_busy;        /* sink: the receiver said it serves another sender: wait */
  GstVideoInfo vinfo;           /* sink: the caps, when video (the vendor's FRAME needs a layout) */
  gboolean has_vinfo;
  gboolean caps_text;           /* sink: the caps are text/x-raw */
  guint max_inflight;
  guint release_waiters;        /* sink: threads waiting on cond for a release (under lock) */
  /* sink: the release thread (sink.c), its epoll set, its stop eventfd, the receivers it reads
   * (number -> QsPeer), all under rel_lock */
  GThread *releases;
  GMutex rel_lock;
  gint rel_epoll, rel_stop_fd;
  GHashTable *rel_peers;
  GstBuffer *prerolled;         /* sent at preroll: not sent again by render */
  GstPad *tee_pad;              /* sink: the sink pad of a tee upstream whose answer we amend (memfd.c) */
  GBytes *caps_item;            /* sink, our wire: the CAPS item TypeScript made for the caps */
  gchar *caps_string;           /* sink, upstream's unixfd wire: the caps as text */
  /* sink, the vendor's wire: what the caps make of each buffer (TypeScript says, at set_caps):
   * QS_VENDOR_MEDIA_*, and for tensors their type and, per tensor, n then its dimensions */
  guint vendor_media;
  guint vendor_tensor_type;
  guint vendor_tensors;
  GArray *vendor_dims;

  /* src */
  GstCaps *caps;                /* caps received in-band */
  GThread *acceptor;
  gint acceptor_stop_fd;
  gint acceptor_wake_fd;        /* eventfd: the connection ended, the next sender may be served */
  volatile gint acceptor_stopping;
  gint conn_ready_fd;           /* eventfd: the acceptor has a new sender for create */
  gint n_waiting;               /* senders greeted as busy, waiting their turn (atomic) */
  GBytes *hello, *hello_busy;   /* src: the element's last greetings (acceptor thread only) */

  guint64 n_native;             /* buffers encoded or decoded natively, no JS call (stats: fast-path) */
  guint64 n_js_calls;           /* calls into the element's JavaScript (stats: js-calls) */

  /* stats */
  guint64 n_sent, n_released, n_dropped, n_copied, n_inlined, n_bytes_copied, n_received, n_connections;
  guint64 n_skipped;            /* sink: buffers receivers missed while they held max-in-flight (skip) */
  guint64 n_fds_sent;           /* sink: fds that went with messages (the fd cache keeps it low) */
  guint64 n_fds_received;       /* src: fds that came with messages */
  guint64 n_released_before;    /* src: releases sent on earlier connections */
  /* src: one-way latency of the last QS_LATENCY_SAMPLES buffers (ns): arrival on CLOCK_MONOTONIC
   * minus the instant the sender meant (its running time placed on CLOCK_MONOTONIC) */
#define QS_LATENCY_SAMPLES 1024
  gint64 latency[QS_LATENCY_SAMPLES];
  guint n_latency;
  gboolean first_logged;
  guint64 base_late_before, base_rendered_before;       /* sink: GstBaseSink's, before its resets */
};

QsInstance *qs_instance_get (gpointer element);
QsClass *qs_class_get (GType type);
gboolean qs_class_define (napi_env env, GType type, QsRole role, const gchar * factory,
    napi_value dispatch, GPtrArray * pspecs, gchar ** error);
const GValue *qs_instance_prop (QsInstance * inst, const gchar * name);

/* waits until fd is readable, the wake fd fires (returns 0) or timeout_ms (-1 = forever) passes.
 * returns 1 if fd is readable/hung up, 0 if woken or timed out, -1 on error */
gint qs_wait_fd (QsInstance * inst, gint fd, gint timeout_ms);
void qs_post_result_messages (QsInstance * inst, const QsJsResult * r);
/* client-connected / client-disconnected: an element message and a signal (disconnected only once,
 * and only after connected) */
void qs_notify_connected (QsInstance * inst, volatile gint * flag, const gchar * peer);
void qs_notify_disconnected (QsInstance * inst, volatile gint * flag, const gchar * reason, guint held);
/* unlock raises the flushing flag and wakes the native waits and the JS waits of the element */
void qs_instance_unlock (QsInstance * inst);
void qs_instance_unlock_stop (QsInstance * inst);
void qs_js_wake_waiters (void);

/* ---- sockets: framing is one 4-byte big-endian length record, then one payload record with the
 * fds attached as SCM_RIGHTS (the vendor's framing, docs/protocol.md) ------------------------------- */
#define QS_MAX_FDS QS_LIMIT_FDS
#define QS_MAX_MESSAGE QS_LIMIT_MESSAGE
gint qs_socket_send (gint fd, const guint8 * data, gsize len, const gint * fds, guint n_fds);
/* returns payload length, 0 if the peer closed, -1 on error (errno); fds are returned in *fds */
gssize qs_socket_recv (gint fd, guint8 ** data, gint * fds, guint * n_fds);
/* drops what the peer sent that is still queued (fds closed), without waiting */
void qs_socket_discard (gint fd);
gint qs_socket_connect (const gchar * path);
/* stream: a SOCK_STREAM socket (upstream's unixfd wire) instead of SOCK_SEQPACKET */
gint qs_socket_connect_type (const gchar * path, gboolean stream);
gint qs_socket_listen (const gchar * path, gboolean stream, guint mode, dev_t * dev, ino_t * ino, gchar ** error);
/* upstream's unixfd wire (SOCK_STREAM): a command, its header {type, size} with the fds, then the
 * payload; and one received whole: returns header + payload in *data (its length), 0 if the peer
 * closed, -1 on error (errno; EAGAIN: nothing to read yet) */
gint qs_stream_send (gint fd, guint32 type, const guint8 * payload, gsize len, const gint * fds, guint n_fds);
gssize qs_stream_recv (gint fd, guint8 ** data, gint * fds, guint * n_fds);

/* ---- descriptions of buffers (lib/protocol/desc.ts BufferDesc; the records are layout.h's) -------
 * QsDesc, then a QsWireMemory per memory, a QsWireVideoMeta, per region of interest a u32 record
 * length and its QsWireRoi with the type and parameters, the inline bytes (padded to 4), and with the
 * fd cache (fd_naming 1) the cache section: sink: per memory u32 id, u32 fresh (its fd goes with the
 * message); src: per fd that came u32 id; both: u32 ids to forget[n_forget]. */
#define QS_DESC_HEADER sizeof (QsDesc)
#define QS_DESC_MEM sizeof (QsWireMemory)
#define QS_DESC_VMETA sizeof (QsWireVideoMeta)
/* a region of interest's record in a description: its length, then ROI_META's body */
#define QS_DESC_ROI (4 + sizeof (QsWireRoi))

/* qdata of a memory, or of the memory it was shared from (a sub-memory maps through its parent):
 * how the memfd and received-memory allocators find the mapping a memory shares */
static inline gpointer
qs_memory_qdata (GstMemory * mem, GQuark quark)
{
  gpointer data;
  while (!(data = gst_mini_object_get_qdata (GST_MINI_OBJECT (mem), quark)) && mem->parent)
    mem = mem->parent;
  return data;
}

static inline QsDesc
qs_desc_header (const guint8 * d)
{
  QsDesc h;
  memcpy (&h, d, sizeof h);
  return h;
}

static inline QsWireMemory
qs_desc_memory (const guint8 * d, guint i)
{
  QsWireMemory m;
  memcpy (&m, d + QS_DESC_HEADER + i * QS_DESC_MEM, sizeof m);
  return m;
}
enum { QS_MEM_FD = 1, QS_MEM_DMABUF = 2, QS_MEM_INLINE = 3 };
/* memory that is not fd-backed travels inside the message up to this many bytes per buffer */
#define QS_INLINE_MAX QS_LIMIT_INLINE_SEND

/* CLOCK_MONOTONIC now, in ns; and where an element's running time 0 sits on it (NONE without a clock
 * or before PLAYING): running time rt happens at monotonic time rt + qs_base_monotonic () */
guint64 qs_monotonic_now (void);
GstClockTime qs_base_monotonic (GstElement * element);
/* the base a sender puts on the wire for a buffer at running time rt: the element's (base, from
 * qs_base_monotonic); before PLAYING (a preroll buffer), the one that places rt at the instant it is
 * sent (NONE if rt is) */
GstClockTime qs_sent_base (GstClockTime base, GstClockTime rt);

/* ---- memfd allocator and pool -------------------------------------------------------------------- */
#define QS_MEMFD_ALLOCATOR "qtisocketmemfd"
GstAllocator *qs_memfd_allocator_get (void);
GstMemory *qs_memfd_alloc (gsize size);
/* closes the memfds kept for reuse (a sink going to NULL: a pipeline that stopped holds none open) */
void qs_memfd_trim (void);
gboolean qs_propose_allocation (QsInstance * inst, GstQuery * query);

/* addon.c: a property of a JS object (its default, or NULL / 0, when absent or of another type) */
gchar *qs_prop_string (napi_env env, napi_value obj, const char *name);
gdouble qs_prop_number (napi_env env, napi_value obj, const char *name, gdouble def);
gboolean qs_prop_bool (napi_env env, napi_value obj, const char *name);
guint64 qs_prop_bigint (napi_env env, napi_value obj, const char *name);
/* codectest.c: encodeForTest(), the native encoder on a buffer described from JS, for the tests */
void qs_codec_test_define (napi_env env, napi_value exports);

/* decode.c: a buffer message of our wire into the description build_buffer takes, natively, or NULL
 * for what the element must see (a greeting, end-of-stream, new caps (*caps_changed), anything
 * malformed); caps: the CAPS body the element took on this connection */
GBytes *qs_decode_buffer (const guint8 * payload, gsize len, guint n_fds, gboolean cached, const guint8 * caps,
    gsize caps_len, gboolean * caps_changed);
/* the vendor's wire: a buffer message of their sender into the description, or NULL for the element */
GBytes *qs_decode_vendor_buffer (const guint8 * payload, gsize len, guint n_fds);
/* upstream's unixfd wire: a NEW_BUFFER command (header and payload) of their sink into the
 * description, or NULL for the element (another command, or anything malformed) */
GBytes *qs_decode_unixfd_buffer (const guint8 * msg, gsize len, guint n_fds);
/* the CAPS item's body of a message, if it has one */
gboolean qs_message_caps (const guint8 * payload, gsize len, const guint8 ** caps, gsize * caps_len);

/* encode.c: the sink's buffer message on our wire, natively (every buffer, no JS call) */
typedef struct {
  GstBuffer *buf;               /* shareable: every memory on an fd, or inline for a receiver of 1.1+ */
  guint64 id;
  const GstSegment *segment;
  guint64 base_monotonic;
  GBytes *caps_item;            /* the CAPS item to send with this buffer, or NULL */
  QsPeer *peer;                 /* the receiver: with takes_cache, its fd cache names the fds (1.2) */
} QsEncodeArgs;
GBytes *qs_encode_buffer (QsInstance * inst, const QsEncodeArgs * a, gint * fds, guint * n_fds);
/* the vendor's wire, natively: NULL when their wire cannot carry this buffer (the element says why);
 * buf_ids[]: each memory's buf_id (-1: not on an fd) */
enum { QS_VENDOR_MEDIA_NONE = 0, QS_VENDOR_MEDIA_VIDEO = 1, QS_VENDOR_MEDIA_TENSORS = 2, QS_VENDOR_MEDIA_TEXT = 3 };
GBytes *qs_encode_vendor_buffer (QsInstance * inst, QsPeer * peer, GstBuffer * buf, gint * fds, guint * n_fds,
    gint32 * buf_ids, guint * n_ids);
/* upstream's unixfd wire, natively: the payload of the NEW_BUFFER command for a buffer whose
 * memories are all on fds (one fd per memory, in *fds); timestamps as instants on CLOCK_MONOTONIC
 * (their running time + base + latency) */
GBytes *qs_encode_unixfd_buffer (QsInstance * inst, const QsEncodeArgs * a, GstClockTime latency, gint * fds,
    guint * n_fds);
/* a timestamp's running time in the segment (NONE if it has none, or the segment is not in time) */
guint64 qs_running_time (const GstSegment * seg, GstClockTime ts);
/* the buffer's video layout: its video meta, or with caps_too the caps' (the vendor's FRAME needs one) */
gboolean qs_video_layout (QsInstance * inst, GstBuffer * buf, gboolean caps_too, QsWireVideoMeta * v);
/* sink.c: the id the receiver knows the file of fd by; *fresh when the fd must go with the message */
guint32 qs_sink_cache_id (QsPeer * peer, gint fd, gboolean * fresh);
/* sink.c: a receiver's state, empty (no connection yet); and its end */
QsPeer *qs_peer_new (void);
void qs_peer_unref (QsPeer * peer);
/* a tee upstream of the sink: its allocation answer offers memfds (at start, and when asked); and no
 * longer, once the sink stops */
void qs_amend_tee (QsInstance * inst);
void qs_forget_tee (QsInstance * inst);

/* ---- per role ---------------------------------------------------------------------------------- */
void qs_sink_install (GstBaseSinkClass * klass, QsClass * k);
/* the pipeline functions for Node programs (pipeline.c) */
void qs_pipeline_define (napi_env env, napi_value exports);
void qs_sink_base_stats (QsInstance * inst, guint64 * late, guint64 * rendered, gdouble * rate);
void qs_src_install (GstPushSrcClass * klass, QsClass * k);
void qs_sink_instance_init (QsInstance * inst);
void qs_sink_instance_clear (QsInstance * inst);
void qs_src_instance_clear (QsInstance * inst);
gboolean qs_src_listen (QsInstance * inst, const gchar * path, gchar ** error);
/* element.c, both roles: binding the socket (perms, stale-socket takeover) and letting it go (its
 * file removed if still ours); the acceptor thread's start and stop (with its eventfds) */
gboolean qs_instance_listen (QsInstance * inst, const gchar * path, gboolean stream, gchar ** error);
void qs_instance_unlisten (QsInstance * inst);
void qs_instance_start_acceptor (QsInstance * inst, const gchar * name, GThreadFunc func);
void qs_instance_stop_acceptor (QsInstance * inst);
GstStructure *qs_instance_stats (QsInstance * inst);
void qs_instance_stop (QsInstance * inst);

/* N-API helpers */
#define QS_NAPI_CALL(env, call, ret) \
  do { if ((call) != napi_ok) { qs_napi_throw_last (env, #call); return ret; } } while (0)
void qs_napi_throw_last (napi_env env, const char *what);
/* a JS string as a new UTF-8 string (g_free it); NULL if v is not a string */
gchar *qs_napi_string (napi_env env, napi_value v);
/* a string, or null for NULL; a GValue as JS sees it (lib/native.ts getProperty, lib/pipeline.ts) */
napi_value qs_napi_string_value (napi_env env, const gchar * s);
napi_value qs_napi_from_gvalue (napi_env env, const GValue * v);

G_END_DECLS
