// qtisocket-ts host library: embeds the distribution's shared libnode in a GStreamer process.
//
// Loaded by the shim plugin (gstqtisocketts.c) with RTLD_GLOBAL. qtisocket_host_boot() starts Node on a
// dedicated thread, with its environment on uv_default_loop() (node-gtk queues vfunc calls made on
// other threads to that loop), runs dist/lib/host.js and waits until that script has registered the
// elements (it calls ready() on the linked binding "qtisocket_host"). Node keeps running on its thread
// for the life of the process; an atexit handler stops it in order.
//
// What Node must not do to its host: no signal handlers (SIGINT/SIGUSR1 belong to the program), no
// stdio or resource-limit changes, no inspector, no process.exit() (it stops the environment instead).
#include <dlfcn.h>
#include <gst/gst.h>
#include <node.h>
#include <node_api.h>
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

namespace {

enum class Phase { kIdle, kBooting, kReady, kFailed, kStopped };

struct Host {
  GMutex lock;
  GCond cond;
  Phase phase = Phase::kIdle;
  std::string error;
  GstPlugin *plugin = nullptr;
  std::string root;
  std::string host_dir;
  GThread *thread = nullptr;
  node::Environment *env = nullptr;
  uv_async_t control;
  bool control_ready = false;
  bool stop_requested = false;
  bool thread_done = false;
};

Host host;

void SetPhase(Phase phase, const std::string &error = std::string()) {
  g_mutex_lock(&host.lock);
  if (host.phase == Phase::kBooting || phase == Phase::kStopped) {
    host.phase = phase;
    if (!error.empty())
      host.error = error;
  }
  g_cond_broadcast(&host.cond);
  g_mutex_unlock(&host.lock);
}

// ready(error?: string): the TypeScript entry reports that registration finished (or failed)
napi_value Ready(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  napi_valuetype type = napi_undefined;
  if (argc >= 1)
    napi_typeof(env, argv[0], &type);
  if (type == napi_string) {
    char buf[2048];
    size_t len = 0;
    napi_get_value_string_utf8(env, argv[0], buf, sizeof buf, &len);
    SetPhase(Phase::kFailed, std::string(buf, len));
  } else {
    SetPhase(Phase::kReady);
  }
  return nullptr;
}

napi_value BindingInit(napi_env env, napi_value exports) {
  napi_value plugin, root, host_dir, ready;
  napi_create_bigint_uint64(env, (uint64_t)(uintptr_t)host.plugin, &plugin);
  napi_create_string_utf8(env, host.root.c_str(), host.root.size(), &root);
  napi_create_string_utf8(env, host.host_dir.c_str(), host.host_dir.size(), &host_dir);
  napi_create_function(env, "ready", NAPI_AUTO_LENGTH, Ready, nullptr, &ready);
  napi_set_named_property(env, exports, "plugin", plugin);
  napi_set_named_property(env, exports, "root", root);
  napi_set_named_property(env, exports, "hostDir", host_dir);
  napi_set_named_property(env, exports, "ready", ready);
  return exports;
}

void OnControl(uv_async_t *handle) {
  g_mutex_lock(&host.lock);
  bool stop = host.stop_requested;
  g_mutex_unlock(&host.lock);
  if (stop) {
    uv_close(reinterpret_cast<uv_handle_t *>(handle), nullptr);
    node::Stop(host.env);
  }
}

std::string JsString(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

gpointer NodeMain(gpointer) {
  std::vector<std::string> args = {"qtisocket-ts"};
  auto init = node::InitializeOncePerProcess(
      args, static_cast<node::ProcessInitializationFlags::Flags>(
                node::ProcessInitializationFlags::kNoDefaultSignalHandling |
                node::ProcessInitializationFlags::kNoStdioInitialization |
                node::ProcessInitializationFlags::kNoAdjustResourceLimits |
                node::ProcessInitializationFlags::kNoUseLargePages |
                node::ProcessInitializationFlags::kNoPrintHelpOrVersionOutput |
                node::ProcessInitializationFlags::kDisableNodeOptionsEnv |
                node::ProcessInitializationFlags::kDisableCLIOptions));
  if (init->early_return() || !init->errors().empty()) {
    std::string msg = "Node.js initialisation failed";
    for (const auto &e : init->errors())
      msg += ": " + e;
    SetPhase(Phase::kFailed, msg);
    return nullptr;
  }
  node::MultiIsolatePlatform *platform = init->platform();
  uv_loop_t *loop = uv_default_loop();
  std::shared_ptr<node::ArrayBufferAllocator> allocator = node::ArrayBufferAllocator::Create();
  v8::Isolate *isolate = node::NewIsolate(allocator, loop, platform);
  if (!isolate) {
    SetPhase(Phase::kFailed, "cannot create a V8 isolate");
    return nullptr;
  }
  {
    v8::Locker locker(isolate);
    v8::Isolate::Scope isolate_scope(isolate);
    v8::HandleScope handle_scope(isolate);
    node::IsolateData *isolate_data =
        node::CreateIsolateData(isolate, loop, platform, allocator.get());
    v8::Local<v8::Context> context = node::NewContext(isolate);
    v8::Context::Scope context_scope(context);
    host.env = node::CreateEnvironment(
        isolate_data, context, args, {},
        static_cast<node::EnvironmentFlags::Flags>(node::EnvironmentFlags::kNoCreateInspector |
                                                   node::EnvironmentFlags::kNoGlobalSearchPaths));
    if (!host.env) {
      SetPhase(Phase::kFailed, "cannot create the Node.js environment");
      return nullptr;
    }
    node::SetProcessExitHandler(host.env, [](node::Environment *env, int) { node::Stop(env); });
    node::AddLinkedBinding(host.env, "qtisocket_host", BindingInit, NAPI_VERSION);

    g_mutex_lock(&host.lock);
    uv_async_init(loop, &host.control, OnControl);  // ref'd: keeps the loop alive until stopped
    host.control_ready = true;
    g_mutex_unlock(&host.lock);

    std::string script = "require('module').createRequire(" + JsString(host.root + "/") +
                         ")('./dist/lib/host.js');";
    if (node::LoadEnvironment(host.env, script.c_str()).IsEmpty())
      SetPhase(Phase::kFailed, "dist/lib/host.js threw while loading (see the message above)");
    node::SpinEventLoop(host.env);
    SetPhase(Phase::kFailed, "Node.js stopped before the elements were registered");
    // An orderly teardown: leaving V8's worker threads running while the process runs its static
    // destructors corrupted the heap at exit now and then.
    node::FreeEnvironment(host.env);
    node::FreeIsolateData(isolate_data);
  }
  bool platform_finished = false;
  platform->AddIsolateFinishedCallback(
      isolate, [](void *data) { *static_cast<bool *>(data) = true; }, &platform_finished);
  platform->UnregisterIsolate(isolate);
  isolate->Dispose();
  while (!platform_finished)
    uv_run(loop, UV_RUN_ONCE);
  node::TearDownOncePerProcess();
  g_mutex_lock(&host.lock);
  host.thread_done = true;
  g_cond_broadcast(&host.cond);
  g_mutex_unlock(&host.lock);
  return nullptr;
}

void StopNode() {
  g_mutex_lock(&host.lock);
  if (host.thread && !host.thread_done && host.control_ready) {
    host.stop_requested = true;
    uv_async_send(&host.control);
    gint64 deadline = g_get_monotonic_time() + 2 * G_TIME_SPAN_SECOND;
    while (!host.thread_done)
      if (!g_cond_wait_until(&host.cond, &host.lock, deadline))
        break;
  }
  g_mutex_unlock(&host.lock);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) gboolean qtisocket_host_boot(GstPlugin *plugin, const gchar *root,
                                                        const gchar *host_dir, gchar **error) {
  g_mutex_lock(&host.lock);
  if (host.phase != Phase::kIdle) {
    gboolean ok = host.phase == Phase::kReady;
    if (!ok)
      *error = g_strdup("Node.js was already started in this process and failed before");
    g_mutex_unlock(&host.lock);
    return ok;
  }
  host.phase = Phase::kBooting;
  host.plugin = plugin;
  host.root = root;
  host.host_dir = host_dir;
  g_mutex_unlock(&host.lock);

  // GStreamer opened us RTLD_LOCAL-ish through the shim: make libnode's symbols (v8, node, uv, napi)
  // visible to the addons Node will load (node-gtk, the helper). Which libnode this library was
  // linked with (libnode.so.108, .115...) is asked of the loader, not written here.
  Dl_info libnode_info;
  if (!dladdr((void *)&napi_create_function, &libnode_info) || !libnode_info.dli_fname ||
      !dlopen(libnode_info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD)) {
    *error = g_strdup_printf("cannot make libnode's symbols global: %s", dlerror());
    SetPhase(Phase::kFailed);
    return FALSE;
  }

  host.thread = g_thread_new("qtisocket-node", NodeMain, nullptr);
  atexit(StopNode);

  const gchar *timeout_env = g_getenv("QTISOCKET_BOOT_TIMEOUT");
  gint64 timeout_s = timeout_env ? g_ascii_strtoll(timeout_env, nullptr, 10) : 60;
  gint64 deadline = g_get_monotonic_time() + timeout_s * G_TIME_SPAN_SECOND;
  g_mutex_lock(&host.lock);
  while (host.phase == Phase::kBooting)
    if (!g_cond_wait_until(&host.cond, &host.lock, deadline)) {
      host.phase = Phase::kFailed;
      host.error = "timed out after " + std::to_string(timeout_s) +
                   " s waiting for the TypeScript entry to register the elements";
    }
  gboolean ok = host.phase == Phase::kReady;
  if (!ok)
    *error = g_strdup(host.error.c_str());
  g_mutex_unlock(&host.lock);
  return ok;
}
