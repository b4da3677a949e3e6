/* qtisocket-ts host shim: the GStreamer plugin that stock programs (gst-launch-1.0, gst-inspect-1.0,
 * any GObject-introspection program) load from GST_PLUGIN_PATH.
 *
 * It only hosts: plugin_init loads the host library (which embeds Debian's libnode), boots Node on a
 * thread of its own, runs the compiled TypeScript plugin entry (dist/lib/host.js) and waits until the
 * TypeScript side has registered qtisocketsink and qtisocketsrc. No element logic lives here.
 *
 * The host library is a separate file, loaded with RTLD_GLOBAL only after checking that this process
 * does not already run a Node.js (a plain Node program registers the elements itself with
 * lib/index.ts: a second, different Node in the same process would clash symbol for symbol). */
#include <dlfcn.h>
#include <gst/gst.h>

#define PACKAGE "qtisocket-ts"

GST_DEBUG_CATEGORY_STATIC (qtisocket_host_debug);
#define GST_CAT_DEFAULT qtisocket_host_debug

typedef gboolean (*HostBootFunc) (GstPlugin * plugin, const gchar * root, gchar ** error);

static gboolean
plugin_init (GstPlugin * plugin)
{
  const gchar *host_path = g_getenv ("QTISOCKET_HOST_LIBRARY");
  const gchar *root = g_getenv ("QTISOCKET_ROOT");
  gchar *error = NULL;
  HostBootFunc boot;
  void *host;

  GST_DEBUG_CATEGORY_INIT (qtisocket_host_debug, "qtisocket-host", 0, "qtisocket-ts host shim");

  if (!host_path)
    host_path = QTISOCKET_HOST_LIBRARY;
  if (!root)
    root = QTISOCKET_ROOT;

  if (dlsym (RTLD_DEFAULT, "napi_module_register") != NULL) {
    g_printerr ("qtisocket-ts: this process already runs Node.js; register the elements from it with "
        "require('qtisocket-ts').register() instead of loading the GStreamer plugin\n");
    return FALSE;
  }

  host = dlopen (host_path, RTLD_NOW | RTLD_GLOBAL);
  if (!host) {
    g_printerr ("qtisocket-ts: cannot load the host library %s: %s (run scripts/setup.sh)\n",
        host_path, dlerror ());
    return FALSE;
  }
  boot = (HostBootFunc) dlsym (host, "qtisocket_host_boot");
  if (!boot) {
    g_printerr ("qtisocket-ts: %s has no qtisocket_host_boot\n", host_path);
    return FALSE;
  }
  if (!boot (plugin, root, &error)) {
    g_printerr ("qtisocket-ts: could not start the TypeScript elements: %s\n",
        error ? error : "unknown error");
    g_free (error);
    return FALSE;
  }
  GST_INFO ("TypeScript elements registered from %s", root);
  return TRUE;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, qtisocketts,
    "Zero-copy buffer passing between processes over a UNIX socket (TypeScript elements)",
    plugin_init, QTISOCKET_VERSION, "MIT/X11", "qtisocket-ts", "https://github.com/qtisocket-ts")
