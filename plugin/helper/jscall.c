/* Calling the TypeScript element from any thread without ever blocking the JS thread.
 *
 * A GStreamer thread queues the call through the class's thread-safe function and waits on a
 * condition variable. The wait ends when JS returned, or when the caller's cancel flag is raised
 * (unlock/stop broadcast the same condition): a flushing element never waits for JS, so a JS thread
 * that is itself busy (for example inside a synchronous set_state from a Node program) cannot
 * deadlock a state change. On the JS thread the call is made directly. */
#include "qtisocket.h"

#include <string.h>

typedef struct {
  gint refcount;
  QsClass *klass;
  GstElement *element;          /* owned reference, NULL for FINALIZE */
  gdouble ptr;
  QsHook hook;
  GBytes *data;
  gchar *str;
  gint64 number;
  gboolean ok;
  gboolean done;
  gboolean posted;              /* fire and forget: the result's messages are posted by complete() */
  QsJsResult result;
} Call;

static GMutex call_lock;
static GCond call_cond;
static GThread *js_thread;

gboolean
qs_js_is_js_thread (void)
{
  return g_thread_self () == js_thread;
}

/* called once, on the JS thread, when the helper is loaded */
void
qs_js_init (void)
{
  js_thread = g_thread_self ();
}

void
qs_js_result_clear (QsJsResult * r)
{
  g_clear_pointer (&r->data, g_bytes_unref);
  g_clear_pointer (&r->fds, g_array_unref);
  g_clear_pointer (&r->vendor, g_array_unref);
  g_clear_pointer (&r->caps, g_free);
  g_clear_pointer (&r->path, g_free);
  g_clear_pointer (&r->peer, g_free);
  g_clear_pointer (&r->warning, g_free);
  g_clear_pointer (&r->error, g_free);
  r->action = 0;
  r->max_inflight = 0;
  r->takes = 0;
  r->caps_hint = FALSE;
}

static void
call_unref (Call * call)
{
  if (!g_atomic_int_dec_and_test (&call->refcount))
    return;
  if (call->element)
    gst_object_unref (call->element);
  g_clear_pointer (&call->data, g_bytes_unref);
  g_free (call->str);
  qs_js_result_clear (&call->result);
  g_free (call);
}

static gchar *
get_string (napi_env env, napi_value obj, const char *name)
{
  napi_value v;
  return napi_get_named_property (env, obj, name, &v) == napi_ok ? qs_napi_string (env, v) : NULL;
}

static gchar *
exception_text (napi_env env)
{
  napi_value exc, str, stack;
  gchar *text;
  bool has_stack = false;
  if (napi_get_and_clear_last_exception (env, &exc) != napi_ok)
    return g_strdup ("unknown exception");
  if (napi_has_named_property (env, exc, "stack", &has_stack) == napi_ok && has_stack &&
      napi_get_named_property (env, exc, "stack", &stack) == napi_ok &&
      napi_coerce_to_string (env, stack, &str) == napi_ok) {
  } else if (napi_coerce_to_string (env, exc, &str) != napi_ok) {
    return g_strdup ("unprintable exception");
  }
  text = qs_napi_string (env, str);
  return text ? text : g_strdup ("unprintable exception");
}

/* an array of numbers as a GArray of gint, or NULL */
static GArray *
get_ints (napi_env env, napi_value obj, const char *name)
{
  napi_value v;
  bool is_array;
  uint32_t n, i;
  GArray *a;
  if (napi_get_named_property (env, obj, name, &v) != napi_ok ||
      napi_is_array (env, v, &is_array) != napi_ok || !is_array)
    return NULL;
  napi_get_array_length (env, v, &n);
  a = g_array_sized_new (FALSE, FALSE, sizeof (gint), n);
  for (i = 0; i < n; i++) {
    napi_value e;
    gint32 x = -1;
    napi_get_element (env, v, i, &e);
    napi_get_value_int32 (env, e, &x);
    g_array_append_val (a, x);
  }
  return a;
}

static void
read_result (napi_env env, napi_value res, QsJsResult * r)
{
  napi_valuetype t;
  napi_value v;
  bool is_typed;
  if (napi_typeof (env, res, &t) != napi_ok || t != napi_object)
    return;
  if (napi_get_named_property (env, res, "action", &v) == napi_ok &&
      napi_typeof (env, v, &t) == napi_ok && t == napi_number)
    napi_get_value_int32 (env, v, &r->action);
  if (napi_get_named_property (env, res, "maxInFlight", &v) == napi_ok &&
      napi_typeof (env, v, &t) == napi_ok && t == napi_number)
    napi_get_value_int32 (env, v, &r->max_inflight);
  if (napi_get_named_property (env, res, "takes", &v) == napi_ok &&
      napi_typeof (env, v, &t) == napi_ok && t == napi_number)
    napi_get_value_int32 (env, v, &r->takes);
  r->caps_hint = qs_prop_bool (env, res, "capsHint");
  r->skip_slow = qs_prop_bool (env, res, "skipSlow");
  r->unixfd = qs_prop_bool (env, res, "unixfd");
  r->mode = -1;
  if (napi_get_named_property (env, res, "mode", &v) == napi_ok &&
      napi_typeof (env, v, &t) == napi_ok && t == napi_number)
    napi_get_value_int32 (env, v, &r->mode);
  if (napi_get_named_property (env, res, "data", &v) == napi_ok &&
      napi_is_typedarray (env, v, &is_typed) == napi_ok && is_typed) {
    napi_typedarray_type tt;
    size_t length, offset;
    void *ptr;
    napi_value ab;
    napi_get_typedarray_info (env, v, &tt, &length, &ptr, &ab, &offset);
    if (tt == napi_uint8_array)
      r->data = g_bytes_new (ptr, length);
  }
  r->fds = get_ints (env, res, "fds");
  r->vendor = get_ints (env, res, "vendor");
  r->caps = get_string (env, res, "caps");
  r->path = get_string (env, res, "path");
  r->peer = get_string (env, res, "peer");
  r->warning = get_string (env, res, "warning");
  r->error = get_string (env, res, "error");
}

/* runs on the JS thread */
static void
run_call (napi_env env, napi_value fn, Call * call)
{
  napi_value argv[5], undefined, res;
  napi_status status;

  napi_get_undefined (env, &undefined);
  napi_create_int32 (env, call->hook, &argv[0]);
  napi_create_double (env, call->ptr, &argv[1]);
  if (call->data) {
    gsize len;
    const void *p = g_bytes_get_data (call->data, &len);
    void *copy;
    napi_create_buffer_copy (env, len, p, &copy, &argv[2]);
  } else {
    argv[2] = undefined;
  }
  if (call->str)
    napi_create_string_utf8 (env, call->str, NAPI_AUTO_LENGTH, &argv[3]);
  else
    argv[3] = undefined;
  napi_create_int64 (env, call->number, &argv[4]);

  status = napi_call_function (env, undefined, fn, 5, argv, &res);
  if (status == napi_ok) {
    call->ok = TRUE;
    read_result (env, res, &call->result);
  } else {
    bool pending = false;
    napi_is_exception_pending (env, &pending);
    call->result.error = pending ? exception_text (env) :
        g_strdup_printf ("calling the element's TypeScript code failed (napi status %d)", status);
    call->ok = FALSE;
  }
}

static void
complete (Call * call)
{
  /* nobody waits for a posted call: what it says goes on the bus from here */
  if (call->posted && call->element) {
    if (call->result.warning)
      GST_ELEMENT_WARNING (call->element, RESOURCE, FAILED, ("%s", call->result.warning), (NULL));
    if (call->result.error)
      GST_ELEMENT_ERROR (call->element, RESOURCE, FAILED, ("%s", call->result.error), (NULL));
  }
  g_mutex_lock (&call_lock);
  call->done = TRUE;
  g_cond_broadcast (&call_cond);
  g_mutex_unlock (&call_lock);
  call_unref (call);
}

static void
call_js_cb (napi_env env, napi_value js_cb, void *context, void *data)
{
  Call *call = data;
  if (env && js_cb) {
    napi_handle_scope scope;
    napi_open_handle_scope (env, &scope);
    run_call (env, js_cb, call);
    napi_close_handle_scope (env, scope);
  } else {
    call->result.error = g_strdup ("Node.js is shutting down");
  }
  complete (call);
}

gboolean
qs_js_make_dispatch (napi_env env, napi_value fn, const gchar * name, napi_threadsafe_function * tsfn)
{
  napi_value resource_name;
  napi_create_string_utf8 (env, name, NAPI_AUTO_LENGTH, &resource_name);
  if (napi_create_threadsafe_function (env, fn, NULL, resource_name, 0, 1, NULL, NULL, NULL,
          call_js_cb, tsfn) != napi_ok)
    return FALSE;
  /* GStreamer threads calling in must not keep a plain Node program alive */
  napi_unref_threadsafe_function (env, *tsfn);
  return TRUE;
}

static Call *
call_new (QsInstance * inst, QsHook hook, const guint8 * data, gsize len, const gchar * str,
    gint64 number)
{
  Call *call = g_new0 (Call, 1);
  call->refcount = 1;
  call->klass = inst->klass;
  call->ptr = (gdouble) (guintptr) inst->element;
  if (hook != QS_HOOK_FINALIZE)
    call->element = gst_object_ref (inst->element);
  call->hook = hook;
  call->data = data ? g_bytes_new (data, len) : NULL;
  call->str = g_strdup (str);
  call->number = number;
  return call;
}

static void
call_direct (Call * call)
{
  QsClass *k = call->klass;
  napi_handle_scope scope;
  napi_value fn;
  napi_open_handle_scope (k->env, &scope);
  if (napi_get_reference_value (k->env, k->dispatch, &fn) == napi_ok && fn)
    run_call (k->env, fn, call);
  else
    call->result.error = g_strdup ("the element's dispatch function is gone");
  napi_close_handle_scope (k->env, scope);
  call->done = TRUE;
}

gboolean
qs_js_call (QsInstance * inst, QsHook hook, const guint8 * data, gsize len, const gchar * str,
    gint64 number, volatile gint * cancel, QsJsResult * result)
{
  Call *call = call_new (inst, hook, data, len, str, number);
  gboolean ok;

  __atomic_add_fetch (&inst->n_js_calls, 1, __ATOMIC_RELAXED);
  if (qs_js_is_js_thread ()) {
    call_direct (call);
  } else {
    call->refcount++;           /* one for the JS side */
    if (napi_call_threadsafe_function (inst->klass->tsfn, call, napi_tsfn_blocking) != napi_ok) {
      call->refcount--;
      call->result.error = g_strdup ("Node.js is not running any more");
      call->done = TRUE;
    }
    g_mutex_lock (&call_lock);
    while (!call->done && !(cancel && g_atomic_int_get (cancel)))
      g_cond_wait (&call_cond, &call_lock);
    g_mutex_unlock (&call_lock);
    if (!call->done) {
      /* cancelled: JS runs the call later and its result is dropped */
      call_unref (call);
      return FALSE;
    }
  }
  ok = call->ok;
  *result = call->result;
  memset (&call->result, 0, sizeof call->result);
  call_unref (call);
  return ok;
}

void
qs_js_post (QsInstance * inst, QsHook hook, const guint8 * data, gsize len, gint64 number)
{
  Call *call = call_new (inst, hook, data, len, NULL, number);
  call->posted = TRUE;
  if (qs_js_is_js_thread ()) {
    call_direct (call);
    call->refcount++;
    complete (call);
    call_unref (call);
    return;
  }
  if (napi_call_threadsafe_function (inst->klass->tsfn, call, napi_tsfn_nonblocking) != napi_ok)
    call_unref (call);
}

/* unlock and stop raise a cancel flag, then wake every waiter so that it can look at its flag */
void
qs_js_wake_waiters (void)
{
  g_mutex_lock (&call_lock);
  g_cond_broadcast (&call_cond);
  g_mutex_unlock (&call_lock);
}
