/* The N-API surface of the helper (typed in lib/native.ts). */
#include "qtisocket.h"

#include <string.h>

GST_DEBUG_CATEGORY (qs_sink_debug);
GST_DEBUG_CATEGORY (qs_src_debug);

void
qs_napi_throw_last (napi_env env, const char *what)
{
  const napi_extended_error_info *info = NULL;
  bool pending = false;
  napi_get_last_error_info (env, &info);
  napi_is_exception_pending (env, &pending);
  if (!pending)
    napi_throw_error (env, NULL, info && info->error_message ? info->error_message : what);
}

gchar *
qs_napi_string (napi_env env, napi_value v)
{
  size_t len = 0;
  gchar *s;
  if (napi_get_value_string_utf8 (env, v, NULL, 0, &len) != napi_ok)
    return NULL;
  s = g_malloc (len + 1);
  napi_get_value_string_utf8 (env, v, s, len + 1, &len);
  return s;
}

gchar *
qs_prop_string (napi_env env, napi_value obj, const char *name)
{
  napi_value v;
  return napi_get_named_property (env, obj, name, &v) == napi_ok ? qs_napi_string (env, v) : NULL;
}

/* opts.signals ({name: what its arguments are}) as factory metadata keyed by the signal's name: GLib keeps no
 * names for signal arguments, and gst-inspect prints an element's metadata */
static void
add_signal_docs (napi_env env, napi_value opts, GstElementClass * eclass)
{
  napi_value signals, names;
  uint32_t i, n = 0;
  if (napi_get_named_property (env, opts, "signals", &signals) != napi_ok ||
      napi_get_property_names (env, signals, &names) != napi_ok)
    return;
  napi_get_array_length (env, names, &n);
  for (i = 0; i < n; i++) {
    napi_value name_v;
    gchar *name, *doc;
    napi_get_element (env, names, i, &name_v);
    name = qs_napi_string (env, name_v);
    doc = name ? qs_prop_string (env, signals, name) : NULL;
    if (doc)
      gst_element_class_add_metadata (eclass, name, doc);
    g_free (doc);
    g_free (name);
  }
}

gdouble
qs_prop_number (napi_env env, napi_value obj, const char *name, gdouble def)
{
  napi_value v;
  napi_valuetype t;
  gdouble d = def;
  if (napi_get_named_property (env, obj, name, &v) == napi_ok &&
      napi_typeof (env, v, &t) == napi_ok && t == napi_number)
    napi_get_value_double (env, v, &d);
  return d;
}

gboolean
qs_prop_bool (napi_env env, napi_value obj, const char *name)
{
  napi_value v;
  napi_valuetype t;
  bool b = false;
  if (napi_get_named_property (env, obj, name, &v) == napi_ok &&
      napi_typeof (env, v, &t) == napi_ok && t == napi_boolean)
    napi_get_value_bool (env, v, &b);
  return b;
}

guint64
qs_prop_bigint (napi_env env, napi_value obj, const char *name)
{
  napi_value v;
  guint64 u = 0;
  bool lossless;
  if (napi_get_named_property (env, obj, name, &v) == napi_ok)
    napi_get_value_bigint_uint64 (env, v, &u, &lossless);
  return u;
}

static gpointer
arg_pointer (napi_env env, napi_value v)
{
  gdouble d = 0;
  napi_get_value_double (env, v, &d);
  return (gpointer) (guintptr) d;
}

static GParamSpec *
make_pspec (napi_env env, napi_value spec)
{
  gchar *name = qs_prop_string (env, spec, "name");
  gchar *nick = qs_prop_string (env, spec, "nick");
  gchar *blurb = qs_prop_string (env, spec, "blurb");
  gchar *type = qs_prop_string (env, spec, "type");
  GParamFlags flags = G_PARAM_READABLE;
  GParamSpec *p = NULL;

  if (qs_prop_bool (env, spec, "writable"))
    flags |= G_PARAM_WRITABLE;
  if (qs_prop_bool (env, spec, "mutableReady"))
    flags |= GST_PARAM_MUTABLE_READY;
  if (!name || !type)
    goto out;
  if (g_str_equal (type, "string")) {
    gchar *def = qs_prop_string (env, spec, "default");
    p = g_param_spec_string (name, nick, blurb, def, flags);
    g_free (def);
  } else if (g_str_equal (type, "boolean")) {
    p = g_param_spec_boolean (name, nick, blurb, qs_prop_bool (env, spec, "default"), flags);
  } else if (g_str_equal (type, "uint")) {
    p = g_param_spec_uint (name, nick, blurb, qs_prop_number (env, spec, "min", 0),
        qs_prop_number (env, spec, "max", G_MAXUINT), qs_prop_number (env, spec, "default", 0), flags);
  } else if (g_str_equal (type, "uint64")) {
    p = g_param_spec_uint64 (name, nick, blurb, qs_prop_number (env, spec, "min", 0),
        qs_prop_number (env, spec, "max", (gdouble) G_MAXUINT64),
        qs_prop_number (env, spec, "default", 0), flags);
  } else if (g_str_equal (type, "int")) {
    p = g_param_spec_int (name, nick, blurb, qs_prop_number (env, spec, "min", G_MININT),
        qs_prop_number (env, spec, "max", G_MAXINT), qs_prop_number (env, spec, "default", 0), flags);
  } else if (g_str_equal (type, "structure")) {
    p = g_param_spec_boxed (name, nick, blurb, GST_TYPE_STRUCTURE, G_PARAM_READABLE);
  }
out:
  g_free (name);
  g_free (nick);
  g_free (blurb);
  g_free (type);
  return p;
}

/* defineElement({gtype, role, factory, longname, klass, description, author, templates, properties,
 *                dispatch}) */
static napi_value
define_element (napi_env env, napi_callback_info info)
{
  size_t argc = 1;
  napi_value opts, templates, properties, dispatch;
  GType type;
  gchar *role, *factory, *longname, *klassname, *description, *author, *error = NULL;
  GstElementClass *eclass;
  GPtrArray *pspecs;
  uint32_t i, n;
  gboolean ok = FALSE;

  QS_NAPI_CALL (env, napi_get_cb_info (env, info, &argc, &opts, NULL, NULL), NULL);
  type = (GType) qs_prop_bigint (env, opts, "gtype");
  role = qs_prop_string (env, opts, "role");
  factory = qs_prop_string (env, opts, "factory");
  longname = qs_prop_string (env, opts, "longname");
  klassname = qs_prop_string (env, opts, "klass");
  description = qs_prop_string (env, opts, "description");
  author = qs_prop_string (env, opts, "author");
  napi_get_named_property (env, opts, "templates", &templates);
  napi_get_named_property (env, opts, "properties", &properties);
  napi_get_named_property (env, opts, "dispatch", &dispatch);
  pspecs = g_ptr_array_new ();

  if (!type || !role || !factory || !longname || !klassname || !description || !author) {
    error = g_strdup ("defineElement: gtype, role, factory and metadata are required");
    goto out;
  }
  eclass = g_type_class_ref (type);
  gst_element_class_set_metadata (eclass, longname, klassname, description, author);
  add_signal_docs (env, opts, eclass);
  napi_get_array_length (env, templates, &n);
  for (i = 0; i < n; i++) {
    napi_value t;
    gchar *name, *dir, *caps_str;
    GstCaps *caps;
    napi_get_element (env, templates, i, &t);
    name = qs_prop_string (env, t, "name");
    dir = qs_prop_string (env, t, "direction");
    caps_str = qs_prop_string (env, t, "caps");
    caps = caps_str ? gst_caps_from_string (caps_str) : NULL;
    if (!name || !dir || !caps) {
      error = g_strdup_printf ("defineElement: bad pad template %u (caps %s)", i, caps_str);
    } else {
      gst_element_class_add_pad_template (eclass, gst_pad_template_new (name,
              g_str_equal (dir, "src") ? GST_PAD_SRC : GST_PAD_SINK, GST_PAD_ALWAYS, caps));
    }
    if (caps)
      gst_caps_unref (caps);
    g_free (name);
    g_free (dir);
    g_free (caps_str);
    if (error)
      break;
  }
  napi_get_array_length (env, properties, &n);
  for (i = 0; !error && i < n; i++) {
    napi_value s;
    GParamSpec *p;
    napi_get_element (env, properties, i, &s);
    p = make_pspec (env, s);
    if (!p)
      error = g_strdup_printf ("defineElement: bad property %u", i);
    else
      g_ptr_array_add (pspecs, p);
  }
  if (!error)
    ok = qs_class_define (env, type, g_str_equal (role, "sink") ? QS_ROLE_SINK : QS_ROLE_SRC,
        factory, dispatch, pspecs, &error);
  g_type_class_unref (eclass);
out:
  g_ptr_array_unref (pspecs);
  g_free (role);
  g_free (factory);
  g_free (longname);
  g_free (klassname);
  g_free (description);
  g_free (author);
  if (!ok) {
    napi_throw_error (env, NULL, error ? error : "defineElement failed");
    g_free (error);
  }
  return NULL;
}

/* registerElement(plugin: bigint (0n: in this process only), factory, rank, gtype: bigint) */
static napi_value
register_element (napi_env env, napi_callback_info info)
{
  size_t argc = 4;
  napi_value argv[4], result;
  guint64 plugin = 0, gtype = 0;
  bool lossless;
  char factory[128];
  gint32 rank = 0;
  size_t len;

  QS_NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL), NULL);
  napi_get_value_bigint_uint64 (env, argv[0], &plugin, &lossless);
  napi_get_value_string_utf8 (env, argv[1], factory, sizeof factory, &len);
  napi_get_value_int32 (env, argv[2], &rank);
  napi_get_value_bigint_uint64 (env, argv[3], &gtype, &lossless);
  napi_get_boolean (env, gst_element_register ((GstPlugin *) (guintptr) plugin, factory, rank,
          (GType) gtype), &result);
  return result;
}

/* listen(ptr, path, stream): null, or the reason it failed; stream: upstream's unixfd wire */
static napi_value
listen_socket (napi_env env, napi_callback_info info)
{
  size_t argc = 3;
  napi_value argv[3], result;
  QsInstance *inst;
  gchar path[4096], *error = NULL;
  size_t len;
  bool stream = false;

  QS_NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL), NULL);
  inst = qs_instance_get (arg_pointer (env, argv[0]));
  napi_get_value_string_utf8 (env, argv[1], path, sizeof path, &len);
  if (argc > 2)
    napi_get_value_bool (env, argv[2], &stream);
  if (inst->klass->role == QS_ROLE_SINK ? qs_instance_listen (inst, path, stream, &error) : qs_src_listen (inst, path, &error)) {
    napi_get_null (env, &result);
  } else {
    napi_create_string_utf8 (env, error, NAPI_AUTO_LENGTH, &result);
    g_free (error);
  }
  return result;
}

/* getProperty(ptr, name): the value of one of the element's own properties */
static napi_value
get_property (napi_env env, napi_callback_info info)
{
  size_t argc = 2;
  napi_value argv[2], result;
  QsInstance *inst;
  const GValue *v;
  char name[128];
  size_t len;

  QS_NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL), NULL);
  inst = qs_instance_get (arg_pointer (env, argv[0]));
  napi_get_value_string_utf8 (env, argv[1], name, sizeof name, &len);
  napi_get_undefined (env, &result);
  if (!inst)
    return result;
  GST_OBJECT_LOCK (inst->element);
  v = qs_instance_prop (inst, name);
  if (v)
    result = qs_napi_from_gvalue (env, v);
  GST_OBJECT_UNLOCK (inst->element);
  return result;
}

/* a string (or null) for JS */
napi_value
qs_napi_string_value (napi_env env, const gchar * s)
{
  napi_value v;
  if (s)
    napi_create_string_utf8 (env, s, NAPI_AUTO_LENGTH, &v);
  else
    napi_get_null (env, &v);
  return v;
}

/* a GValue for JS: booleans, strings and numbers as such; caps and structures as strings; anything
 * else (enums, flags, fractions...) as its GStreamer serialisation */
napi_value
qs_napi_from_gvalue (napi_env env, const GValue * v)
{
  napi_value r;
  GValue s = G_VALUE_INIT;
  if (G_VALUE_HOLDS_BOOLEAN (v)) {
    napi_get_boolean (env, g_value_get_boolean (v), &r);
  } else if (G_VALUE_HOLDS_STRING (v)) {
    r = qs_napi_string_value (env, g_value_get_string (v));
  } else if (g_value_type_transformable (G_VALUE_TYPE (v), G_TYPE_DOUBLE) &&
      G_TYPE_FUNDAMENTAL (G_VALUE_TYPE (v)) != G_TYPE_ENUM &&
      G_TYPE_FUNDAMENTAL (G_VALUE_TYPE (v)) != G_TYPE_FLAGS) {
    g_value_init (&s, G_TYPE_DOUBLE);
    g_value_transform (v, &s);
    napi_create_double (env, g_value_get_double (&s), &r);
  } else if (GST_VALUE_HOLDS_STRUCTURE (v) || GST_VALUE_HOLDS_CAPS (v)) {
    gchar *str = GST_VALUE_HOLDS_CAPS (v) ? gst_caps_to_string (gst_value_get_caps (v)) :
        gst_value_get_structure (v) ? gst_structure_to_string (gst_value_get_structure (v)) : NULL;
    r = qs_napi_string_value (env, str);
    g_free (str);
  } else {
    /* enums, flags, fractions...: their GStreamer serialisation */
    gchar *str = gst_value_serialize (v);
    r = qs_napi_string_value (env, str);
    g_free (str);
  }
  if (G_IS_VALUE (&s))
    g_value_unset (&s);
  return r;
}

/* log(ptr, level, message): into the element's GST_DEBUG category */
static napi_value
log_message (napi_env env, napi_callback_info info)
{
  size_t argc = 3;
  napi_value argv[3];
  GstElement *el;
  QsClass *k;
  gint32 level = GST_LEVEL_DEBUG;
  gchar *msg;

  QS_NAPI_CALL (env, napi_get_cb_info (env, info, &argc, argv, NULL, NULL), NULL);
  el = arg_pointer (env, argv[0]);
  napi_get_value_int32 (env, argv[1], &level);
  if (!(msg = qs_napi_string (env, argv[2])))
    return NULL;
  k = el ? qs_class_get (G_OBJECT_TYPE (el)) : NULL;
  gst_debug_log (k && k->role == QS_ROLE_SRC ? qs_src_debug : qs_sink_debug, level, "lib", "",
      0, el ? G_OBJECT (el) : NULL, "%s", msg);
  g_free (msg);
  return NULL;
}

static napi_value
init (napi_env env, napi_value exports)
{
  napi_property_descriptor props[] = {
    {"defineElement", NULL, define_element, NULL, NULL, NULL, napi_default, NULL},
    {"registerElement", NULL, register_element, NULL, NULL, NULL, napi_default, NULL},
    {"listen", NULL, listen_socket, NULL, NULL, NULL, napi_default, NULL},
    {"getProperty", NULL, get_property, NULL, NULL, NULL, napi_default, NULL},
    {"log", NULL, log_message, NULL, NULL, NULL, napi_default, NULL},
  };
  if (!gst_is_initialized ())
    gst_init (NULL, NULL);
  GST_DEBUG_CATEGORY_INIT (qs_sink_debug, "qtisocketsink", 0, "qtisocket-ts sink");
  GST_DEBUG_CATEGORY_INIT (qs_src_debug, "qtisocketsrc", 0, "qtisocket-ts source");
  qs_js_init ();
  napi_define_properties (env, exports, G_N_ELEMENTS (props), props);
  qs_pipeline_define (env, exports);
  qs_codec_test_define (env, exports);
  return exports;
}

NAPI_MODULE (NODE_GYP_MODULE_NAME, init)
