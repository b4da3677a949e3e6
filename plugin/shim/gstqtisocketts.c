/* qtisocket-ts host shim: the GStreamer plugin that stock programs (gst-launch-1.0, gst-inspect-1.0,
 * any GObject-introspection program) load.
 *
 * It only hosts: plugin_init loads the host library (which embeds Debian's libnode), boots Node on a
 * thread of its own, runs the compiled TypeScript plugin entry (dist/lib/host.js) and waits until the
 * TypeScript side has registered qtisocketsink and qtisocketsrc. No element logic lives here.
 *
 * Everything else is found relative to this file, never at a path compiled in:
 *  - installed (scripts/install.sh): <plugin folder>/../qtisocket-ts holds the host library, the
 *    private libnode, the native helper, dist/ and node_modules/;
 *  - in the build folder (GST_PLUGIN_PATH=build/meson): the host library and the helper sit beside
 *    this file, and the file "qtisocket-ts-uninstalled" that meson writes there names the source tree
 *    (dist/ and node_modules/).
 * QTISOCKET_HOST_DIR and QTISOCKET_ROOT override both, for development.
 *
 * The host library is a separate file, loaded with RTLD_GLOBAL only after checking that this process
 * does not already run a Node.js (a plain Node program registers the elements itself with
 * lib/index.ts: a second, different Node in the same process would clash symbol for symbol). */
#define _GNU_SOURCE             /* dladdr */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <gst/gst.h>

#define PACKAGE "qtisocket-ts"
#define HOST_LIBRARY "libqtisocket-host.host"
#define UNINSTALLED_MARKER "qtisocket-ts-uninstalled"

GST_DEBUG_CATEGORY_STATIC (qtisocket_host_debug);
#define GST_CAT_DEFAULT qtisocket_host_debug

typedef gboolean (*HostBootFunc) (GstPlugin * plugin, const gchar * root, const gchar * host_dir,
    gchar ** error);

/* Where the host library and helper are (*host_dir) and where dist/ and node_modules/ are (*root),
 * from this plugin file's own folder; FALSE with *error if neither layout is there. */
static gboolean
find_parts (gchar ** host_dir, gchar ** root, gchar ** error)
{
  Dl_info info;
  char self[PATH_MAX];
  gchar *self_dir, *installed, *marker, *contents = NULL;

  if (!dladdr ((void *) find_parts, &info) || !info.dli_fname) {
    *error = g_strdup ("cannot tell where the plugin file is (dladdr failed)");
    return FALSE;
  }
  /* the loader gives the name it was opened with, relative when GST_PLUGIN_PATH is: make it absolute
   * (and follow links to the real file) before anything is looked up beside it */
  if (!realpath (info.dli_fname, self)) {
    *error = g_strdup_printf ("cannot resolve the plugin file's path '%s': %s", info.dli_fname,
        g_strerror (errno));
    return FALSE;
  }
  self_dir = g_path_get_dirname (self);
  installed = g_build_filename (self_dir, "..", PACKAGE, NULL);
  marker = g_build_filename (self_dir, UNINSTALLED_MARKER, NULL);
  if (g_file_get_contents (marker, &contents, NULL, NULL)) {
    *host_dir = g_strdup (self_dir);
    *root = g_strdup (g_strstrip (contents));
  } else if (g_file_test (installed, G_FILE_TEST_IS_DIR)) {
    *host_dir = g_canonicalize_filename (installed, NULL);
    *root = g_strdup (*host_dir);
  } else {
    *error = g_strdup_printf ("found neither %s (installed by scripts/install.sh) nor %s (a build folder)",
        installed, marker);
  }
  g_free (contents);
  g_free (marker);
  g_free (installed);
  g_free (self_dir);
  return *error == NULL;
}

static gboolean
plugin_init (GstPlugin * plugin)
{
  gchar *host_dir = g_strdup (g_getenv ("QTISOCKET_HOST_DIR"));
  gchar *root = g_strdup (g_getenv ("QTISOCKET_ROOT"));
  gchar *host_path = NULL, *error = NULL;
  HostBootFunc boot;
  void *host;
  gboolean ok = FALSE;

  GST_DEBUG_CATEGORY_INIT (qtisocket_host_debug, "qtisocket-host", 0, "qtisocket-ts host shim");

  if (dlsym (RTLD_DEFAULT, "napi_module_register") != NULL) {
    g_printerr ("qtisocket-ts: this process already runs Node.js; register the elements from it with "
        "require('qtisocket-ts').register() instead of loading the GStreamer plugin\n");
    goto out;
  }
  if (!host_dir || !root) {
    gchar *found_dir = NULL, *found_root = NULL;
    if (!find_parts (&found_dir, &found_root, &error)) {
      g_printerr ("qtisocket-ts: %s\n", error);
      goto out;
    }
    if (!host_dir)
      host_dir = g_steal_pointer (&found_dir);
    if (!root)
      root = g_steal_pointer (&found_root);
    g_free (found_dir);
    g_free (found_root);
  }

  host_path = g_build_filename (host_dir, HOST_LIBRARY, NULL);
  host = dlopen (host_path, RTLD_NOW | RTLD_GLOBAL);
  if (!host) {
    g_printerr ("qtisocket-ts: cannot load the host library %s: %s (run scripts/setup.sh)\n",
        host_path, dlerror ());
    goto out;
  }
  boot = (HostBootFunc) dlsym (host, "qtisocket_host_boot");
  if (!boot) {
    g_printerr ("qtisocket-ts: %s has no qtisocket_host_boot\n", host_path);
    goto out;
  }
  if (!boot (plugin, root, host_dir, &error)) {
    g_printerr ("qtisocket-ts: could not start the TypeScript elements: %s\n",
        error ? error : "unknown error");
    goto out;
  }
  GST_INFO ("TypeScript elements registered from %s (host library in %s)", root, host_dir);
  ok = TRUE;
out:
  g_free (error);
  g_free (host_path);
  g_free (root);
  g_free (host_dir);
  return ok;
}

/* No origin URL: the project has no public home yet (gst-inspect shows GStreamer's own placeholder) */
GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, qtisocketts,
    "Zero-copy buffer passing between processes over a UNIX socket (TypeScript elements)",
    plugin_init, QTISOCKET_VERSION, "MIT/X11", "qtisocket-ts", "Unknown package origin")
