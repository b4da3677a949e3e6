/* Pipelines for Node programs (lib/pipeline.ts): parse, change state and read the bus without ever
 * blocking the JS thread. A state change calls the elements' vfuncs, and ours call into JS and wait
 * for it: done on the JS thread that would deadlock, so set_state and the bus wait run on libuv's
 * worker threads (napi async work) and settle a Promise. */
#include "qtisocket.h"

#include <string.h>

static GstElement *
arg_element (napi_env env, napi_value v)
{
  gdouble d = 0;
  napi_get_value_double (env, v, &d);
  return GST_IS_ELEMENT ((gpointer) (guintptr) d) ? (GstElement *) (guintptr) d : NULL;
}

/* parseLaunch(description): the pipeline's address; throws with GStreamer's reason */
static napi_value
parse_launch (napi_env env, napi_callback_info info)
{
  size_t argc = 1;
  napi_value argv[1], result;
  GError *error = NULL;
  gchar *desc;
  GstElement *pipeline;

  QS_NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL), NULL);
  desc = qs_napi_string (env, argv[0]);
  pipeline = desc ? gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &error) : NULL;
  g_free (desc);
  if (!pipeline) {
    napi_throw_error (env, NULL, error ? error->message : "not a pipeline description");
    g_clear_error (&error);
    return NULL;
  }
  if (!GST_IS_PIPELINE (pipeline)) {
    /* a single element: put it in a pipeline so that it has a bus and a clock */
    GstElement *bin = gst_pipeline_new (NULL);
    gst_bin_add (GST_BIN (bin), pipeline);
    pipeline = bin;
  }
  /* parse_launch gives a floating reference: sunk, it is the one reference we hold */
  napi_create_double (env, (gdouble) (guintptr) gst_object_ref_sink (pipeline), &result);
  return result;
}

/* release(pipeline): to NULL (synchronously: call it after stop()) and the reference dropped */
static napi_value
release (napi_env env, napi_callback_info info)
{
  size_t argc = 1;
  napi_value argv[1];
  GstElement *e;
  QS_NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL), NULL);
  if ((e = arg_element (env, argv[0])))
    gst_object_unref (e);
  return NULL;
}

/* ---- setState(pipeline, state, timeoutMs): Promise<GstStateChangeReturn> ---------------------- */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  GstElement *element;
  GstState state;
  gint64 timeout_ms;
  GstStateChangeReturn ret;
  GstBus *bus;
  GstMessage *msg;
} Job;

static void
set_state_execute (napi_env env, void *data)
{
  Job *job = data;
  job->ret = gst_element_set_state (job->element, job->state);
  /* an asynchronous change (a sink prerolling) completes when it completes, or times out */
  if (job->ret == GST_STATE_CHANGE_ASYNC && job->timeout_ms != 0)
    job->ret = gst_element_get_state (job->element, NULL, NULL,
        job->timeout_ms < 0 ? GST_CLOCK_TIME_NONE : (GstClockTime) job->timeout_ms * GST_MSECOND);
}

static void
set_state_complete (napi_env env, napi_status status, void *data)
{
  Job *job = data;
  napi_value v;
  napi_create_int32 (env, job->ret, &v);
  napi_resolve_deferred (env, job->deferred, v);
  napi_delete_async_work (env, job->work);
  gst_object_unref (job->element);
  g_free (job);
}

/* a job on an element: NULL (and a TypeError thrown) if v is not one */
static Job *
job_new (napi_env env, napi_value v)
{
  Job *job;
  GstElement *element = arg_element (env, v);
  if (!element) {
    napi_throw_type_error (env, NULL, "not an element");
    return NULL;
  }
  job = g_new0 (Job, 1);
  job->element = gst_object_ref (element);
  return job;
}

/* queues the job on a libuv worker; returns the Promise its completion settles */
static napi_value
job_queue (napi_env env, Job * job, const char *what, napi_async_execute_callback execute,
    napi_async_complete_callback complete)
{
  napi_value promise, name;
  napi_create_promise (env, &job->deferred, &promise);
  napi_create_string_utf8 (env, what, NAPI_AUTO_LENGTH, &name);
  napi_create_async_work (env, NULL, name, execute, complete, job, &job->work);
  napi_queue_async_work (env, job->work);
  return promise;
}

static napi_value
set_state (napi_env env, napi_callback_info info)
{
  size_t argc = 3;
  napi_value argv[3];
  Job *job;
  gint32 state = 0;
  gdouble timeout = -1;

  QS_NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL), NULL);
  if (!(job = job_new (env, argv[0])))
    return NULL;
  napi_get_value_int32 (env, argv[1], &state);
  napi_get_value_double (env, argv[2], &timeout);
  job->state = state;
  job->timeout_ms = (gint64) timeout;
  return job_queue (env, job, "qtisocket.setState", set_state_execute, set_state_complete);
}

/* ---- nextMessage(pipeline, timeoutMs): Promise<message | null> --------------------------------- */
#define WATCHED (GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING | GST_MESSAGE_INFO | \
    GST_MESSAGE_ELEMENT | GST_MESSAGE_STATE_CHANGED | GST_MESSAGE_QOS)

static void
pop_execute (napi_env env, void *data)
{
  Job *job = data;
  job->msg = gst_bus_timed_pop_filtered (job->bus,
      job->timeout_ms < 0 ? GST_CLOCK_TIME_NONE : (GstClockTime) job->timeout_ms * GST_MSECOND, WATCHED);
}

static void
set_string (napi_env env, napi_value obj, const gchar * key, const gchar * value)
{
  napi_set_named_property (env, obj, key, qs_napi_string_value (env, value));
}

static void
pop_complete (napi_env env, napi_status status, void *data)
{
  Job *job = data;
  napi_value v;
  GstMessage *m = job->msg;

  if (!m) {
    napi_get_null (env, &v);
  } else {
    const GstStructure *s = gst_message_get_structure (m);
    gchar *str = s ? gst_structure_to_string (s) : NULL;
    napi_create_object (env, &v);
    set_string (env, v, "type", gst_message_type_get_name (GST_MESSAGE_TYPE (m)));
    set_string (env, v, "source", GST_MESSAGE_SRC (m) ? GST_OBJECT_NAME (GST_MESSAGE_SRC (m)) : NULL);
    set_string (env, v, "structure", str);
    g_free (str);
    if (GST_MESSAGE_TYPE (m) & (GST_MESSAGE_ERROR | GST_MESSAGE_WARNING | GST_MESSAGE_INFO)) {
      GError *err = NULL;
      gchar *debug = NULL;
      if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
        gst_message_parse_error (m, &err, &debug);
      else if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING)
        gst_message_parse_warning (m, &err, &debug);
      else
        gst_message_parse_info (m, &err, &debug);
      set_string (env, v, "text", err ? err->message : NULL);
      set_string (env, v, "debug", debug);
      g_clear_error (&err);
      g_free (debug);
    }
    gst_message_unref (m);
  }
  napi_resolve_deferred (env, job->deferred, v);
  napi_delete_async_work (env, job->work);
  gst_object_unref (job->bus);
  gst_object_unref (job->element);
  g_free (job);
}

static napi_value
next_message (napi_env env, napi_callback_info info)
{
  size_t argc = 2;
  napi_value argv[2];
  Job *job;
  gdouble timeout = -1;

  QS_NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL), NULL);
  if (!(job = job_new (env, argv[0])))
    return NULL;
  job->bus = gst_element_get_bus (job->element);
  napi_get_value_double (env, argv[1], &timeout);
  job->timeout_ms = (gint64) timeout;
  return job_queue (env, job, "qtisocket.nextMessage", pop_execute, pop_complete);
}

/* ---- property(pipeline, element, name[, value]): an element's property, read or written -------- */
static napi_value
element_property (napi_env env, napi_callback_info info)
{
  size_t argc = 4;
  napi_value argv[4], result = NULL;
  GstElement *pipeline, *element;
  gchar *ename, *pname;
  GParamSpec *pspec;

  QS_NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL), NULL);
  pipeline = arg_element (env, argv[0]);
  ename = qs_napi_string (env, argv[1]);
  pname = qs_napi_string (env, argv[2]);
  element = pipeline && ename ? gst_bin_get_by_name (GST_BIN (pipeline), ename) : NULL;
  pspec = element && pname ? g_object_class_find_property (G_OBJECT_GET_CLASS (element), pname) : NULL;
  if (!pspec) {
    napi_throw_error (env, NULL, element ? "no such property" : "no such element");
  } else if (argc < 4) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, pspec->value_type);
    g_object_get_property (G_OBJECT (element), pname, &v);
    result = qs_napi_from_gvalue (env, &v);
    g_value_unset (&v);
  } else {
    /* written as gst-launch would: from the value's text */
    napi_value text;
    gchar *str;
    napi_coerce_to_string (env, argv[3], &text);
    str = qs_napi_string (env, text);
    gst_util_set_object_arg (G_OBJECT (element), pname, str);
    g_free (str);
  }
  g_free (ename);
  g_free (pname);
  if (element)
    gst_object_unref (element);
  return result;
}

void
qs_pipeline_define (napi_env env, napi_value exports)
{
  napi_property_descriptor props[] = {
    {"parseLaunch", NULL, parse_launch, NULL, NULL, NULL, napi_default, NULL},
    {"release", NULL, release, NULL, NULL, NULL, napi_default, NULL},
    {"setState", NULL, set_state, NULL, NULL, NULL, napi_default, NULL},
    {"nextMessage", NULL, next_message, NULL, NULL, NULL, napi_default, NULL},
    {"property", NULL, element_property, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties (env, exports, G_N_ELEMENTS (props), props);
}
