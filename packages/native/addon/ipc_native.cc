// @ipc/native: shared memory that other processes can map, and a futex that works across them.
//
// - create(size) / open(path, size): a memfd mapping (MAP_SHARED) wrapped in a real
//   SharedArrayBuffer, so Atomics.* work on it and it can be posted to worker threads. Another
//   process opens it as /proc/<pid>/fd/<fd> of a process that holds it.
// - wait / wake: Linux futex *without* FUTEX_PRIVATE_FLAG, keyed by the shared page, so a wake in
//   one process reaches a sleeper in another. (V8's Atomics.wait is an in-process wait list.)
// - waitAsync: the same sleep on a pool of waiter threads (never the libuv pool, where four
//   pending waits would starve fs), reported back on the caller's event loop.
// - allocUnsafe: large private buffers from huge-page regions (fresh pages are slow to fault).
//
// A mapping is named by a small integer id (an index into a process-wide table of base addresses)
// so that a wait costs no BackingStore lookup. The table entry is cleared when the
// SharedArrayBuffer's backing store is freed, which happens only after every isolate dropped it.
#include <node.h>
#include <uv.h>
#include <v8.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

using v8::Context;
using v8::Function;
using v8::FunctionCallbackInfo;
using v8::Global;
using v8::HandleScope;
using v8::Integer;
using v8::Isolate;
using v8::Local;
using v8::Object;
using v8::String;
using v8::Value;

// ---- the table of mappings -------------------------------------------------------------------

// all-zero when unused, so that the table is zero-initialized (.bss, not 1.5 MB of .data)
struct Mapping {
  char* base = nullptr;
  size_t size = 0;
  int fdPlusOne = 0;  // the descriptor kept open for it, + 1; 0: none
};

constexpr uint32_t kMaxMappings = 1 << 16;
std::mutex tableMu;
Mapping table[kMaxMappings];
std::vector<uint32_t> freeIds;
uint32_t nextId = 1;  // 0 is never a valid id

uint32_t addMapping(char* base, size_t size, int fd) {
  std::lock_guard<std::mutex> lk(tableMu);
  uint32_t id;
  if (!freeIds.empty()) {
    id = freeIds.back();
    freeIds.pop_back();
  } else if (nextId < kMaxMappings) {
    id = nextId++;
  } else {
    return 0;
  }
  table[id] = Mapping{base, size, fd + 1};
  return id;
}

void releaseMapping(void* data, size_t length, void* deleterData) {
  uint32_t id = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(deleterData));
  std::lock_guard<std::mutex> lk(tableMu);
  munmap(data, length);
  if (table[id].fdPlusOne > 0) close(table[id].fdPlusOne - 1);
  table[id] = Mapping{};
  freeIds.push_back(id);
}

// releaseDescriptor(id): closes the descriptor kept open for mapping `id`, whose memory stays
// mapped until its buffer is collected (as before). For a block nobody can hand to another
// process any more (a pipe whose ends are both closed for good): its descriptor then stops
// counting against the process's open files at once, not at a collection. True if one was open.
void ReleaseDescriptor(const FunctionCallbackInfo<Value>& args) {
  uint32_t id = args[0]->Uint32Value(args.GetIsolate()->GetCurrentContext()).FromMaybe(0);
  bool closed = false;
  if (id != 0 && id < kMaxMappings) {
    std::lock_guard<std::mutex> lk(tableMu);
    if (table[id].base != nullptr && table[id].fdPlusOne > 0) {
      close(table[id].fdPlusOne - 1);
      table[id].fdPlusOne = 0;
      closed = true;
    }
  }
  args.GetReturnValue().Set(closed);
}

void throwError(Isolate* iso, const std::string& message) {
  iso->ThrowException(v8::Exception::Error(String::NewFromUtf8(iso, message.c_str()).ToLocalChecked()));
}

void throwErrno(Isolate* iso, const char* what) {
  throwError(iso, std::string(what) + ": " + strerror(errno));
}

/** The word at `byteOffset` of mapping `id`, or nullptr (and a thrown error) when out of range. */
int* wordAt(Isolate* iso, const FunctionCallbackInfo<Value>& args) {
  Local<Context> ctx = iso->GetCurrentContext();
  uint32_t id = args[0]->Uint32Value(ctx).FromMaybe(0);
  uint32_t offset = args[1]->Uint32Value(ctx).FromMaybe(UINT32_MAX);
  if (id == 0 || id >= kMaxMappings) {
    throwError(iso, "bad mapping id");
    return nullptr;
  }
  Mapping m = table[id];  // a torn read cannot matter: the caller holds the buffer alive
  if (m.base == nullptr || (offset & 3) != 0 || static_cast<size_t>(offset) + 4 > m.size) {
    throwError(iso, "bad mapping offset");
    return nullptr;
  }
  return reinterpret_cast<int*>(m.base + offset);
}

/** Returns [SharedArrayBuffer, id, fd] for a fresh mapping of `fd`. */
void returnMapping(Isolate* iso, const FunctionCallbackInfo<Value>& args, int fd, size_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    int e = errno;
    close(fd);
    errno = e;
    return throwErrno(iso, "mmap");
  }
  uint32_t id = addMapping(static_cast<char*>(p), size, fd);
  if (id == 0) {
    munmap(p, size);
    close(fd);
    return throwError(iso, "too many shared mappings in this process");
  }
  auto store = v8::SharedArrayBuffer::NewBackingStore(p, size, releaseMapping, reinterpret_cast<void*>(static_cast<uintptr_t>(id)));
  Local<v8::SharedArrayBuffer> sab = v8::SharedArrayBuffer::New(iso, std::move(store));
  Local<Context> ctx = iso->GetCurrentContext();
  Local<v8::Array> out = v8::Array::New(iso, 3);
  out->Set(ctx, 0, sab).Check();
  out->Set(ctx, 1, Integer::NewFromUnsigned(iso, id)).Check();
  out->Set(ctx, 2, Integer::New(iso, fd)).Check();
  args.GetReturnValue().Set(out);
}

// Every mapping is a memfd named kMemfdName whose size is sealed (kSeals) once set: open() accepts
// nothing else, so a forged path (an ordinary file, another program's memfd) is never mapped, and
// no holder can shrink the memory under another's mapping (which would SIGBUS it).
constexpr const char* kMemfdName = "ipc-native";
constexpr int kSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

// create(size): a new zeroed memfd mapping.
void Create(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  double size = args[0]->NumberValue(iso->GetCurrentContext()).FromMaybe(0);
  if (!(size >= 4) || size > (double)(1ull << 40)) return throwError(iso, "bad mapping size");
  int fd = static_cast<int>(syscall(SYS_memfd_create, kMemfdName, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (fd < 0) return throwErrno(iso, "memfd_create");
  if (ftruncate(fd, static_cast<off_t>(size)) != 0 || fcntl(fd, F_ADD_SEALS, kSeals) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return throwErrno(iso, "ftruncate");
  }
  returnMapping(iso, args, fd, static_cast<size_t>(size));
}

/** True when `fd` is a memfd made by create(): its name, its seals, its exact size. */
bool isOurMemfd(int fd, double size) {
  if (fcntl(fd, F_GET_SEALS) != kSeals) return false;  // EINVAL for anything but a memfd
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char target[128];
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0) return false;
  target[n] = 0;
  std::string expected = std::string("/memfd:") + kMemfdName + " ";
  if (strncmp(target, expected.c_str(), expected.size()) != 0) return false;
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<double>(st.st_size) == size;
}

// open(path, size): maps an existing mapping of exactly `size` bytes (/proc/<pid>/fd/<fd>) that
// create() made, in any process; anything else is refused without being mapped.
void Open(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  String::Utf8Value path(iso, args[0]);
  double size = args[1]->NumberValue(iso->GetCurrentContext()).FromMaybe(0);
  if (*path == nullptr || !(size >= 4)) return throwError(iso, "bad mapping path or size");
  int fd = open(*path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return throwErrno(iso, (std::string("open ") + *path).c_str());
  if (!isOurMemfd(fd, size)) {
    close(fd);
    return throwError(iso, std::string("not @ipc shared memory: ") + *path);
  }
  returnMapping(iso, args, fd, static_cast<size_t>(size));
}

// ---- named shared memory (Python's multiprocessing.shared_memory) ---------------------------
//
// A file under /dev/shm, as POSIX shm_open names it: attachable by name from any process of the
// user, which is its purpose. Only what the program itself names is opened (a name never comes
// from a network peer: handles from peers are not revived at all).

bool validShmName(const std::string& name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  for (char c : name)
    if (c == '/' || c == 0) return false;
  return true;
}

void throwShm(Isolate* iso, const char* what, const std::string& name) {
  int e = errno;
  const char* code = e == EEXIST ? "EEXIST" : e == ENOENT ? "ENOENT" : e == EACCES ? "EACCES" : e == EINVAL ? "EINVAL" : "EIO";
  throwError(iso, std::string(code) + ": " + what + " " + name + ": " + strerror(e));
}

// shmOpen(name, create, size): [SharedArrayBuffer, id, fd, size]. create: a new zeroed file of
// `size` bytes (EEXIST when the name is taken); else the existing one, at its own size (ENOENT).
void ShmOpen(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  Local<Context> ctx = iso->GetCurrentContext();
  String::Utf8Value nameArg(iso, args[0]);
  std::string name = *nameArg == nullptr ? "" : std::string(*nameArg, nameArg.length());
  bool create = args[1]->BooleanValue(iso);
  double size = args[2]->NumberValue(ctx).FromMaybe(0);
  if (!validShmName(name)) return throwError(iso, "EINVAL: bad shared memory name");
  std::string path = "/dev/shm/" + name;
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | (create ? O_CREAT | O_EXCL : 0), 0600);
  if (fd < 0) return throwShm(iso, create ? "create" : "open", name);
  struct stat st;
  if (create) {
    if (!(size >= 1) || size > (double)(1ull << 40) || ftruncate(fd, static_cast<off_t>(size)) != 0) {
      int e = errno;
      close(fd);
      unlink(path.c_str());
      errno = e == 0 ? EINVAL : e;
      return throwShm(iso, "ftruncate", name);
    }
  } else {
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
      close(fd);
      errno = EINVAL;
      return throwShm(iso, "open (not a shared memory file)", name);
    }
    size = static_cast<double>(st.st_size);
  }
  returnMapping(iso, args, fd, static_cast<size_t>(size));
  if (args.GetReturnValue().Get()->IsArray()) {
    args.GetReturnValue().Get().As<v8::Array>()->Set(ctx, 3, v8::Number::New(iso, size)).Check();
  }
}

// shmUnlink(name): removes the name (mappings stay valid until unmapped). ENOENT when it is gone.
void ShmUnlink(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  String::Utf8Value nameArg(iso, args[0]);
  std::string name = *nameArg == nullptr ? "" : std::string(*nameArg, nameArg.length());
  if (!validShmName(name)) return throwError(iso, "EINVAL: bad shared memory name");
  if (unlink(("/dev/shm/" + name).c_str()) != 0) return throwShm(iso, "unlink", name);
}

// ---- large private buffers -------------------------------------------------------------------
//
// allocUnsafe(size): a plain (not shared) ArrayBuffer of `size` uninitialized bytes for a large
// received value. Fresh anonymous memory costs a page fault per 4 KiB page on first touch: in
// the VMs measured ~10 us each, 2.5 ms per MiB, against ~70 us for one 2 MiB transparent huge
// page. So buffers come from 2 MiB-aligned regions advised MADV_HUGEPAGE: one up to a region's
// size is carved from the current region (several share one), a larger one gets its own
// mapping rounded up to whole regions. A region is unmapped when the allocator has moved on from
// it and every buffer carved from it is freed, except that up to kKeptRegions free regions are
// kept and reused without any fault (V8 frees received buffers in batches, at its garbage
// collections, 64 MiB of buffers at a time; an item of 1 MiB and a few bytes takes a region of
// its own, so a stream of them frees 64 regions at once: with 32 kept, half were unmapped and
// faulted in again, and a 1 MiB queue between threads ran 1.7-2.1k items/s, with 64 kept
// 2.5-3.6k/s, mapping 47-91 regions for 3,000 items); a kept
// region unused for kKeepMs is unmapped by a decay thread that runs only while regions are kept
// (as jemalloc decays dirty pages), so a burst of large messages does not leave the process
// bigger. A buffer that outlives its neighbours pins its region: at most 2 MiB for a buffer of
// >= 256 KiB (what @ipc asks for), so at most 8x its own size.
//
// The deleter runs on whichever thread V8 frees the buffer (possibly a GC helper thread).

constexpr size_t kRegion = 2u << 20;
constexpr size_t kKeptRegions = 64;
constexpr int64_t kKeepMs = 1000;
constexpr size_t kAlign = 64;

std::atomic<size_t> mappedRegionBytes{0};
std::atomic<size_t> regionMaps{0};  // regions mapped since the process started (diagnostics)

struct Region {
  char* base;
  size_t size;
  std::atomic<size_t> refs;  // one per live buffer, plus one while it is the current region
  int64_t keptAt = 0;        // when it joined the kept list (ms, monotonic)
};

int64_t nowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

struct Regions {
  std::mutex mu;
  std::condition_variable decay;
  bool decaying = false;  // a decay thread is running
  std::vector<Region*> kept;
  Region* current = nullptr;
  size_t used = 0;
};
// on the heap and never destroyed: deleters may run during process exit
Regions& regions = *new Regions();

Region* mapRegion(size_t size) {
  // map one region more than needed, then trim to a 2 MiB-aligned span
  char* raw = static_cast<char*>(mmap(nullptr, size + kRegion, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (raw == MAP_FAILED) return nullptr;
  char* base = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(raw) + kRegion - 1) & ~(uintptr_t)(kRegion - 1));
  if (base > raw) munmap(raw, base - raw);
  char* end = base + size;
  char* rawEnd = raw + size + kRegion;
  if (rawEnd > end) munmap(end, rawEnd - end);
  madvise(base, size, MADV_HUGEPAGE);  // advice only: without THP the pages are ordinary
  mappedRegionBytes += size;
  regionMaps++;
  return new Region{base, size, {0}};
}

void unmapRegion(Region* r) {
  mappedRegionBytes -= r->size;
  munmap(r->base, r->size);
  delete r;
}

/** Unmaps kept regions unused for kKeepMs (the oldest are first). Called with regions.mu held. */
void decayLocked(int64_t now) {
  size_t stale = 0;
  while (stale < regions.kept.size() && now - regions.kept[stale]->keptAt > kKeepMs) unmapRegion(regions.kept[stale++]);
  regions.kept.erase(regions.kept.begin(), regions.kept.begin() + stale);
}

/** Unmaps kept regions as they go stale; ends when none is kept. */
void decayThread() {
  std::unique_lock<std::mutex> lk(regions.mu);
  while (!regions.kept.empty()) {
    int64_t wait = regions.kept.front()->keptAt + kKeepMs + 1 - nowMs();
    if (wait > 0) regions.decay.wait_for(lk, std::chrono::milliseconds(wait));
    decayLocked(nowMs());
  }
  regions.decaying = false;
}

/** A region nobody uses any more: kept for reuse or unmapped. Called with regions.mu held. */
void dropRegionLocked(Region* r) {
  int64_t now = nowMs();
  decayLocked(now);
  if (r->size == kRegion && regions.kept.size() < kKeptRegions) {
    r->keptAt = now;
    regions.kept.push_back(r);
    if (!regions.decaying) {
      regions.decaying = true;
      std::thread(decayThread).detach();
    }
    return;
  }
  unmapRegion(r);
}

void unrefRegion(Region* r) {
  if (r->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  std::lock_guard<std::mutex> lk(regions.mu);
  dropRegionLocked(r);
}

void releaseLarge(void*, size_t, void* deleterData) {
  unrefRegion(static_cast<Region*>(deleterData));
}

/** `size` bytes and the region that holds them, or nullptr when out of memory. */
char* allocLarge(size_t size, Region** owner) {
  size_t need = (size + kAlign - 1) & ~(kAlign - 1);
  if (need > kRegion) {
    Region* r = mapRegion((need + kRegion - 1) & ~(kRegion - 1));
    if (r == nullptr) return nullptr;
    r->refs.store(1);
    *owner = r;
    return r->base;
  }
  std::lock_guard<std::mutex> lk(regions.mu);
  if (regions.current == nullptr || regions.used + need > kRegion) {
    decayLocked(nowMs());
    Region* next;
    if (!regions.kept.empty()) {
      next = regions.kept.back();
      regions.kept.pop_back();
    } else {
      next = mapRegion(kRegion);
      if (next == nullptr) return nullptr;
    }
    next->refs.store(1);  // the allocator's own reference
    Region* old = regions.current;
    regions.current = next;
    regions.used = 0;
    if (old != nullptr && old->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) dropRegionLocked(old);
  }
  Region* r = regions.current;
  r->refs.fetch_add(1, std::memory_order_relaxed);
  char* p = r->base + regions.used;
  regions.used += need;
  *owner = r;
  return p;
}

void AllocUnsafe(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  double size = args[0]->NumberValue(iso->GetCurrentContext()).FromMaybe(-1);
  if (!(size >= 1) || size > (double)(1ull << 40) || size != std::floor(size)) return throwError(iso, "bad buffer size");
  Region* owner = nullptr;
  char* p = allocLarge(static_cast<size_t>(size), &owner);
  if (p == nullptr) return throwErrno(iso, "mmap");
  auto store = v8::ArrayBuffer::NewBackingStore(p, static_cast<size_t>(size), releaseLarge, owner);
  args.GetReturnValue().Set(v8::ArrayBuffer::New(iso, std::move(store)));
}

// ---- hand-over: a large message passed between threads of this process without a second copy --
// handOver(bytes, ring) copies `bytes` into an allocUnsafe block and files it under a token (a
// u32); the sending thread writes only the token into the ring it shares with the receiver, and
// the receiver's adopt(token) turns the block into its own ArrayBuffer (freed by its garbage
// collector like any allocUnsafe buffer). A token is adopted at most once: a second adopt (a
// receiver that took over from one that ended mid-read) gets undefined. A block nobody adopts is
// freed once the ring it was meant for is gone: the filing keeps a weak reference to the ring's
// SharedArrayBuffer, and filings whose ring was collected are freed at the next handOver or
// regionStats call. isFiled(token) tells a sender whether a token is still waiting to be adopted.

struct HandedBlock {
  char* p;
  size_t size;
  Region* owner;
  std::weak_ptr<v8::BackingStore> ring;
};

struct HandOvers {
  std::mutex mu;
  std::unordered_map<uint32_t, HandedBlock> blocks;
  uint32_t next = 1;
};
HandOvers& handOvers = *new HandOvers();

/** Frees the blocks whose ring is gone. Called with handOvers.mu held. */
void sweepHandOversLocked() {
  for (auto it = handOvers.blocks.begin(); it != handOvers.blocks.end();) {
    if (it->second.ring.expired()) {
      unrefRegion(it->second.owner);
      it = handOvers.blocks.erase(it);
    } else {
      ++it;
    }
  }
}

void HandOver(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  if (!args[0]->IsArrayBufferView() || !args[1]->IsSharedArrayBuffer()) return throwError(iso, "handOver(bytes, ring): expected a view and a SharedArrayBuffer");
  Local<v8::ArrayBufferView> view = args[0].As<v8::ArrayBufferView>();
  size_t size = view->ByteLength();
  if (size == 0) return throwError(iso, "handOver: empty message");
  Region* owner = nullptr;
  char* p = allocLarge(size, &owner);
  if (p == nullptr) return throwErrno(iso, "mmap");
  view->CopyContents(p, size);
  std::lock_guard<std::mutex> lk(handOvers.mu);
  sweepHandOversLocked();
  uint32_t token = handOvers.next;
  handOvers.next = token == 0x7fffffff ? 1 : token + 1;
  handOvers.blocks[token] = HandedBlock{p, size, owner, args[1].As<v8::SharedArrayBuffer>()->GetBackingStore()};
  args.GetReturnValue().Set(Integer::NewFromUnsigned(iso, token));
}

void Adopt(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  uint32_t token = args[0]->Uint32Value(iso->GetCurrentContext()).FromMaybe(0);
  HandedBlock b;
  {
    std::lock_guard<std::mutex> lk(handOvers.mu);
    auto it = handOvers.blocks.find(token);
    if (it == handOvers.blocks.end()) return;  // undefined: already adopted, or never filed
    b = it->second;
    handOvers.blocks.erase(it);
  }
  auto store = v8::ArrayBuffer::NewBackingStore(b.p, b.size, releaseLarge, b.owner);
  args.GetReturnValue().Set(v8::ArrayBuffer::New(iso, std::move(store)));
}

// takeInto(token, target): copies the block into `target` (a view of exactly its length) and frees
// it at once, so that its region is reused while still in the cache; false once adopted.
void TakeInto(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  if (!args[1]->IsArrayBufferView()) return throwError(iso, "takeInto(token, target): expected a view");
  uint32_t token = args[0]->Uint32Value(iso->GetCurrentContext()).FromMaybe(0);
  Local<v8::ArrayBufferView> target = args[1].As<v8::ArrayBufferView>();
  HandedBlock b;
  {
    std::lock_guard<std::mutex> lk(handOvers.mu);
    auto it = handOvers.blocks.find(token);
    if (it == handOvers.blocks.end()) return args.GetReturnValue().Set(false);
    if (target->ByteLength() != it->second.size) return throwError(iso, "takeInto: the target is not the block's length");
    b = it->second;
    handOvers.blocks.erase(it);
  }
  char* dst = static_cast<char*>(target->Buffer()->GetBackingStore()->Data()) + target->ByteOffset();
  memcpy(dst, b.p, b.size);
  unrefRegion(b.owner);
  args.GetReturnValue().Set(true);
}

void IsFiled(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  uint32_t token = args[0]->Uint32Value(iso->GetCurrentContext()).FromMaybe(0);
  std::lock_guard<std::mutex> lk(handOvers.mu);
  args.GetReturnValue().Set(handOvers.blocks.count(token) > 0);
}

// regionStats(): { mapped, kept } bytes of the allocator's regions, `maps` the regions mapped so
// far, and the count of hand-overs not yet adopted (diagnostics and tests).
void RegionStats(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  Local<Context> ctx = iso->GetCurrentContext();
  size_t kept;
  size_t handed;
  {
    std::lock_guard<std::mutex> lk(handOvers.mu);
    sweepHandOversLocked();
    handed = handOvers.blocks.size();
  }
  {
    std::lock_guard<std::mutex> lk(regions.mu);
    kept = regions.kept.size() * kRegion;
  }
  Local<Object> out = Object::New(iso);
  out->Set(ctx, String::NewFromUtf8(iso, "mapped").ToLocalChecked(), v8::Number::New(iso, static_cast<double>(mappedRegionBytes.load()))).Check();
  out->Set(ctx, String::NewFromUtf8(iso, "kept").ToLocalChecked(), v8::Number::New(iso, static_cast<double>(kept))).Check();
  out->Set(ctx, String::NewFromUtf8(iso, "maps").ToLocalChecked(), v8::Number::New(iso, static_cast<double>(regionMaps.load()))).Check();
  out->Set(ctx, String::NewFromUtf8(iso, "handed").ToLocalChecked(), v8::Number::New(iso, static_cast<double>(handed))).Check();
  args.GetReturnValue().Set(out);
}

// ---- ended threads ----------------------------------------------------------------------------
//
// @ipc ends each block it allocates with a party table (core's native-memory.ts): word 0 the
// number of entries, word 1 kPartyMagic, then per entry k the words 4+4k state (1 taken),
// 5+4k pid, 6+4k threadId, 7+4k ended. markThreadEnded(threadId) sets `ended` in the entries of
// this process's thread `threadId` in every such block this process maps, so other processes see
// that a worker thread of this one has ended (its queue locks can then be taken over).

constexpr int32_t kPartyMagic = 0x49504354;  // "IPCT"
constexpr size_t kPartyEntries = 256;
constexpr size_t kPartyBytes = (4 + 4 * kPartyEntries) * 4;

// Sets `ended` in this process's entries for thread `tid`; returns how many it marked.
int markThreadEndedIn(int32_t tid) {
  int32_t pid = static_cast<int32_t>(getpid());
  int marked = 0;
  std::lock_guard<std::mutex> lk(tableMu);
  for (uint32_t id = 1; id < nextId; id++) {
    const Mapping& m = table[id];
    if (m.base == nullptr || m.size < kPartyBytes) continue;
    int32_t* t = reinterpret_cast<int32_t*>(m.base + m.size - kPartyBytes);
    if (__atomic_load_n(&t[1], __ATOMIC_SEQ_CST) != kPartyMagic) continue;
    size_t n = static_cast<size_t>(__atomic_load_n(&t[0], __ATOMIC_SEQ_CST));
    if (n > kPartyEntries) n = kPartyEntries;
    for (size_t k = 0; k < n; k++) {
      int32_t* e = t + 4 + 4 * k;
      if (__atomic_load_n(&e[0], __ATOMIC_SEQ_CST) == 1 && __atomic_load_n(&e[1], __ATOMIC_SEQ_CST) == pid &&
          __atomic_load_n(&e[2], __ATOMIC_SEQ_CST) == tid) {
        __atomic_store_n(&e[3], 1, __ATOMIC_SEQ_CST);
        marked++;
      }
    }
  }
  return marked;
}

void MarkThreadEnded(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  int32_t tid = args[0]->Int32Value(iso->GetCurrentContext()).FromMaybe(-1);
  args.GetReturnValue().Set(markThreadEndedIn(tid));
}

// ---- futex ------------------------------------------------------------------------------------

enum WaitResult { kOk = 0, kNotEqual = 1, kTimedOut = 2 };

WaitResult futexWait(int* addr, int expected, double timeoutMs) {
  struct timespec ts;
  struct timespec* tsp = nullptr;
  if (timeoutMs >= 0 && timeoutMs < 1e15) {
    double ms = timeoutMs;
    ts.tv_sec = static_cast<time_t>(ms / 1000);
    ts.tv_nsec = static_cast<long>((ms - ts.tv_sec * 1000.0) * 1e6);
    tsp = &ts;
  }
  // relaxed read first: the kernel compares again atomically under its own lock
  if (__atomic_load_n(addr, __ATOMIC_SEQ_CST) != expected) return kNotEqual;
  long r = syscall(SYS_futex, addr, FUTEX_WAIT, expected, tsp, nullptr, 0);
  if (r == 0) return kOk;
  if (errno == EAGAIN) return kNotEqual;
  if (errno == ETIMEDOUT) return kTimedOut;
  return kOk;  // EINTR and the like: a spurious wake-up, which every caller tolerates
}

int futexWake(int* addr, int count) {
  long r = syscall(SYS_futex, addr, FUTEX_WAKE, count, nullptr, nullptr, 0);
  return r < 0 ? 0 : static_cast<int>(r);
}

double timeoutArg(Isolate* iso, Local<Value> v) {
  double t = v->NumberValue(iso->GetCurrentContext()).FromMaybe(-1);
  if (t != t || t == INFINITY) return -1;  // NaN or Infinity: forever
  return t < 0 ? 0 : t;
}

// wait(id, byteOffset, expected, timeoutMs): 0 ok, 1 not-equal, 2 timed-out.
void Wait(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  int* addr = wordAt(iso, args);
  if (addr == nullptr) return;
  int expected = args[2]->Int32Value(iso->GetCurrentContext()).FromMaybe(0);
  args.GetReturnValue().Set(static_cast<int>(futexWait(addr, expected, timeoutArg(iso, args[3]))));
}

// wake(id, byteOffset, count): how many sleepers were woken.
void Wake(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  int* addr = wordAt(iso, args);
  if (addr == nullptr) return;
  double count = args[2]->NumberValue(iso->GetCurrentContext()).FromMaybe(INT_MAX);
  int n = count >= INT_MAX || count != count ? INT_MAX : count < 0 ? 0 : static_cast<int>(count);
  args.GetReturnValue().Set(futexWake(addr, n));
}

// ---- async waits: a pool of waiter threads, results posted to each isolate's loop --------------

struct Mailbox {
  std::mutex mu;
  std::vector<std::pair<uint32_t, int>> done;
  uv_async_t* async = nullptr;  // nullptr once the isolate is gone
};

/** Hands a wait's result to its isolate's loop (dropped when that isolate is gone). */
void post(const std::shared_ptr<Mailbox>& mailbox, uint32_t id, int result) {
  std::lock_guard<std::mutex> lk(mailbox->mu);
  if (mailbox->async != nullptr) {
    mailbox->done.emplace_back(id, result);
    uv_async_send(mailbox->async);
  }
}

struct Job {
  int* addr;
  int expected;
  double timeoutMs;
  std::shared_ptr<Mailbox> mailbox;
  uint32_t id;
};

// Never destroyed: at exit, destroying a condition variable that parked threads still wait on
// blocks in glibc, so the pool lives on the heap and is left to the process's end.
struct Pool {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job> jobs;
  int idle = 0;  // threads parked and not yet promised a job
};
Pool& pool = *new Pool();

void waiterThread() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lk(pool.mu);
      pool.cv.wait(lk, [] { return !pool.jobs.empty(); });
      job = std::move(pool.jobs.front());
      pool.jobs.pop_front();
    }
    int r = futexWait(job.addr, job.expected, job.timeoutMs);
    post(job.mailbox, job.id, r);
    job.mailbox.reset();
    std::lock_guard<std::mutex> lk(pool.mu);
    pool.idle++;
  }
}

void submit(Job job) {
  std::lock_guard<std::mutex> lk(pool.mu);
  pool.jobs.push_back(std::move(job));
  if (pool.idle > 0) {
    pool.idle--;
    pool.cv.notify_one();
  } else {
    std::thread(waiterThread).detach();
  }
}

// ---- async waits, many per thread: futex_waitv (Linux >= 5.16) -------------------------------
//
// A hub is one thread waiting with futex_waitv on up to kHubWaits words at once, plus its own
// control word (bumped to make it re-read its list). A wake of one word wakes one entry: the hub
// finishes just that wait, so notify(1) keeps its meaning. A wake that arrives while the hub is
// rebuilding its list is not lost: every @ipc protocol changes the word before it wakes, and the
// kernel compares each word with its expected value when the wait starts (EAGAIN), after which the
// hub finishes the waits whose words changed ("not-equal"). Where futex_waitv is missing, the
// pool of one thread per wait above serves.

#ifndef __NR_futex_waitv
#define __NR_futex_waitv 449
#endif
struct WaitvEntry {  // struct futex_waitv
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};
constexpr uint32_t kFutex2U32 = 0x02;
constexpr uint32_t kFutex2Private = 128;
constexpr size_t kHubWaits = 127;  // + the control word = FUTEX_WAITV_MAX (128)

struct HubWait {
  int* addr;
  int expected;
  double deadline;  // CLOCK_MONOTONIC ms; < 0: never
  std::shared_ptr<Mailbox> mailbox;
  uint32_t id;
  bool cancelled;
};

struct Hub {
  std::mutex mu;
  std::vector<HubWait> waits;
  int ctl = 0;
};

std::mutex hubsMu;
std::vector<Hub*>& hubs = *new std::vector<Hub*>();  // never destroyed (threads park on them)

double monotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

bool waitvSupported() {
  static const bool supported = [] {
    int word = 1;
    WaitvEntry e{0, reinterpret_cast<uint64_t>(&word), kFutex2U32 | kFutex2Private, 0};
    long r = syscall(__NR_futex_waitv, &e, 1, 0, nullptr, CLOCK_MONOTONIC);
    return r == -1 && errno == EAGAIN;  // the value differs: supported; ENOSYS: not
  }();
  return supported;
}

void hubThread(Hub* hub) {
  std::vector<WaitvEntry> entries;
  for (;;) {
    double next = -1;
    {
      std::lock_guard<std::mutex> lk(hub->mu);
      entries.clear();
      entries.push_back(WaitvEntry{static_cast<uint32_t>(__atomic_load_n(&hub->ctl, __ATOMIC_SEQ_CST)), reinterpret_cast<uint64_t>(&hub->ctl),
                                   kFutex2U32 | kFutex2Private, 0});
      for (const HubWait& w : hub->waits) {
        entries.push_back(WaitvEntry{static_cast<uint32_t>(w.expected), reinterpret_cast<uint64_t>(w.addr), kFutex2U32, 0});
        if (w.deadline >= 0 && (next < 0 || w.deadline < next)) next = w.deadline;
      }
    }
    struct timespec ts;
    struct timespec* tsp = nullptr;
    if (next >= 0) {
      ts.tv_sec = static_cast<time_t>(next / 1000);
      ts.tv_nsec = static_cast<long>((next - ts.tv_sec * 1000.0) * 1e6);
      tsp = &ts;
    }
    long r = syscall(__NR_futex_waitv, entries.data(), entries.size(), 0, tsp, CLOCK_MONOTONIC);
    std::lock_guard<std::mutex> lk(hub->mu);
    double now = monotonicMs();
    // waits are only appended while the hub sleeps, so entry k + 1 is still waits[k]
    std::vector<HubWait> keep;
    keep.reserve(hub->waits.size());
    for (size_t k = 0; k < hub->waits.size(); k++) {
      HubWait& w = hub->waits[k];
      int result = -1;
      if (w.cancelled) result = -2;
      else if (r >= 1 && static_cast<size_t>(r) == k + 1) result = kOk;
      else if (__atomic_load_n(w.addr, __ATOMIC_SEQ_CST) != w.expected) result = kNotEqual;
      else if (w.deadline >= 0 && now >= w.deadline) result = kTimedOut;
      if (result == -1) keep.push_back(std::move(w));
      else if (result >= 0) post(w.mailbox, w.id, result);
    }
    hub->waits.swap(keep);
  }
}

void submitToHub(HubWait wait) {
  Hub* hub = nullptr;
  std::lock_guard<std::mutex> lk(hubsMu);
  for (Hub* h : hubs) {
    std::lock_guard<std::mutex> hl(h->mu);
    if (h->waits.size() < kHubWaits) {
      h->waits.push_back(std::move(wait));
      __atomic_add_fetch(&h->ctl, 1, __ATOMIC_SEQ_CST);
      syscall(SYS_futex, &h->ctl, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
      return;
    }
  }
  hub = new Hub();
  hub->waits.push_back(std::move(wait));
  hubs.push_back(hub);
  std::thread(hubThread, hub).detach();
}

/** Drops the hub waits of an isolate that is going away, or only its wait `id` (0: all). */
void cancelHubWaits(const std::shared_ptr<Mailbox>& mailbox, uint32_t id = 0) {
  std::lock_guard<std::mutex> lk(hubsMu);
  for (Hub* h : hubs) {
    std::lock_guard<std::mutex> hl(h->mu);
    bool any = false;
    for (HubWait& w : h->waits) {
      if (w.mailbox == mailbox && (id == 0 || w.id == id)) w.cancelled = any = true;
    }
    if (any) {
      __atomic_add_fetch(&h->ctl, 1, __ATOMIC_SEQ_CST);
      syscall(SYS_futex, &h->ctl, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    }
  }
}

/** Per-isolate state: the loop handle that delivers results, and the callbacks waiting for them. */
struct Instance {
  Isolate* iso;
  Global<Context> context;
  uv_async_t async;
  std::shared_ptr<Mailbox> mailbox = std::make_shared<Mailbox>();
  std::unordered_map<uint32_t, std::pair<Global<Function>, int*>> pending;
  uint32_t nextWait = 1;
  // watchThreadEnd: the process's table of ended threads (core's liveness.ts) and this thread's id
  std::shared_ptr<v8::BackingStore> liveness;
  int32_t threadId = -1;
};

void deliver(uv_async_t* handle) {
  Instance* inst = static_cast<Instance*>(handle->data);
  std::vector<std::pair<uint32_t, int>> done;
  {
    std::lock_guard<std::mutex> lk(inst->mailbox->mu);
    done.swap(inst->mailbox->done);
  }
  Isolate* iso = inst->iso;
  HandleScope scope(iso);
  Local<Context> ctx = inst->context.Get(iso);
  Context::Scope contextScope(ctx);
  for (auto& [id, result] : done) {
    auto it = inst->pending.find(id);
    if (it == inst->pending.end()) continue;
    Local<Function> fn = it->second.first.Get(iso);
    inst->pending.erase(it);
    if (inst->pending.empty()) uv_unref(reinterpret_cast<uv_handle_t*>(&inst->async));
    Local<Value> argv[1] = {Integer::New(iso, result)};
    node::MakeCallback(iso, ctx->Global(), fn, 1, argv, {0, 0});
  }
}

void cleanup(void* data) {
  Instance* inst = static_cast<Instance*>(data);
  // this thread has ended (its JavaScript runs no more): say so where other threads look, before
  // anything else, since a parent blocked in a wait cannot hear of it from its event loop
  if (inst->threadId >= 0) {
    int32_t tid = inst->threadId;
    if (inst->liveness && static_cast<size_t>(tid >> 5) * 4 + 4 <= inst->liveness->ByteLength()) {
      int32_t* words = static_cast<int32_t*>(inst->liveness->Data());
      __atomic_fetch_or(&words[tid >> 5], static_cast<int32_t>(1u << (tid & 31)), __ATOMIC_SEQ_CST);
    }
    markThreadEndedIn(tid);
    inst->liveness.reset();
  }
  {
    std::lock_guard<std::mutex> lk(inst->mailbox->mu);
    inst->mailbox->async = nullptr;
  }
  // free the waiter threads and hub slots this isolate occupies (other sleepers may see a spurious wake-up)
  if (waitvSupported()) cancelHubWaits(inst->mailbox);
  else
    for (auto& [id, entry] : inst->pending) futexWake(entry.second, INT_MAX);
  inst->pending.clear();
  inst->context.Reset();  // V8 handles must go while the isolate lives; the close callback runs later
  uv_close(reinterpret_cast<uv_handle_t*>(&inst->async), [](uv_handle_t* h) { delete static_cast<Instance*>(h->data); });
}

// watchThreadEnd(table, threadId): when this thread ends (returns, throws, is terminated), sets
// bit `threadId` of `table` (a SharedArrayBuffer: core's liveness.ts) and marks this thread ended
// in the party tables of the blocks this process maps, from the thread itself as it goes.
void WatchThreadEnd(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  Instance* inst = static_cast<Instance*>(args.Data().As<v8::External>()->Value());
  if (!args[0]->IsSharedArrayBuffer()) return throwError(iso, "watchThreadEnd needs a SharedArrayBuffer");
  int32_t tid = args[1]->Int32Value(iso->GetCurrentContext()).FromMaybe(-1);
  if (tid < 0) return throwError(iso, "bad thread id");
  inst->liveness = args[0].As<v8::SharedArrayBuffer>()->GetBackingStore();
  inst->threadId = tid;
}

// waitAsync(id, byteOffset, expected, timeoutMs, callback(result)).
void WaitAsync(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  Instance* inst = static_cast<Instance*>(args.Data().As<v8::External>()->Value());
  int* addr = wordAt(iso, args);
  if (addr == nullptr) return;
  if (!args[4]->IsFunction()) return throwError(iso, "waitAsync needs a callback");
  int expected = args[2]->Int32Value(iso->GetCurrentContext()).FromMaybe(0);
  double timeoutMs = timeoutArg(iso, args[3]);
  uint32_t id = inst->nextWait++;
  if (inst->pending.empty()) uv_ref(reinterpret_cast<uv_handle_t*>(&inst->async));
  inst->pending.emplace(id, std::make_pair(Global<Function>(iso, args[4].As<Function>()), addr));
  if (waitvSupported()) {
    submitToHub(HubWait{addr, expected, timeoutMs < 0 ? -1 : monotonicMs() + timeoutMs, inst->mailbox, id, false});
  } else {
    submit(Job{addr, expected, timeoutMs, inst->mailbox, id});
  }
  args.GetReturnValue().Set(id);
}

// cancelWait(waitId): the caller gave up on an async wait (its signal was aborted). Its callback is
// dropped and it no longer keeps the loop alive at once; a hub forgets it on its next round. (A
// wake of the word cannot do this reliably: it is lost when it comes while the hub is between two
// waits, and the word is unchanged.) Without futex_waitv, the waiter thread that sleeps for it
// stays until the word changes or the wait times out; its result is dropped.
void CancelWait(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  Instance* inst = static_cast<Instance*>(args.Data().As<v8::External>()->Value());
  uint32_t id = args[0]->Uint32Value(iso->GetCurrentContext()).FromMaybe(0);
  auto it = inst->pending.find(id);
  if (id == 0 || it == inst->pending.end()) return;
  inst->pending.erase(it);
  if (inst->pending.empty()) uv_unref(reinterpret_cast<uv_handle_t*>(&inst->async));
  if (waitvSupported()) cancelHubWaits(inst->mailbox, id);
}

// setParentDeathSignal(signal): the kernel sends `signal` to this process when the thread that
// forked it ends (prctl PR_SET_PDEATHSIG); returns the parent pid as of right after, so the caller
// can tell whether the parent had already gone before (then the signal never comes).
void SetParentDeathSignal(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  int sig = args[0]->Int32Value(iso->GetCurrentContext()).FromMaybe(0);
  if (sig <= 0 || sig >= 65) return throwError(iso, "bad signal number");
  if (prctl(PR_SET_PDEATHSIG, sig) != 0) return throwErrno(iso, "prctl");
  args.GetReturnValue().Set(Integer::New(iso, getppid()));
}

// yieldCpu(): lets another runnable thread have this CPU (sched_yield). A receive that busy-waits
// for another thread's message calls it between looks, so that on a machine with as many busy
// threads as cores (V8's compiler threads while code warms up) the sender is not kept off a core
// by the very thread waiting for it.
void YieldCpu(const FunctionCallbackInfo<Value>&) {
  sched_yield();
}

void setMethod(Isolate* iso, Local<Context> ctx, Local<Object> exports, const char* name, v8::FunctionCallback fn, Local<Value> data) {
  Local<Function> f = v8::FunctionTemplate::New(iso, fn, data)->GetFunction(ctx).ToLocalChecked();
  exports->Set(ctx, String::NewFromUtf8(iso, name).ToLocalChecked(), f).Check();
}

}  // namespace

NODE_MODULE_INIT(/* exports, module, context */) {
  Isolate* iso = Isolate::GetCurrent();  // Context::GetIsolate is gone in V8 14 (Node 26)
  Instance* inst = new Instance();
  inst->iso = iso;
  inst->context.Reset(iso, context);
  inst->async.data = inst;
  uv_async_init(node::GetCurrentEventLoop(iso), &inst->async, deliver);
  uv_unref(reinterpret_cast<uv_handle_t*>(&inst->async));
  inst->mailbox->async = &inst->async;
  node::AddEnvironmentCleanupHook(iso, cleanup, inst);
  Local<Value> data = v8::External::New(iso, inst);
  setMethod(iso, context, exports, "create", Create, data);
  setMethod(iso, context, exports, "open", Open, data);
  setMethod(iso, context, exports, "releaseDescriptor", ReleaseDescriptor, data);
  setMethod(iso, context, exports, "wait", Wait, data);
  setMethod(iso, context, exports, "cancelWait", CancelWait, data);
  setMethod(iso, context, exports, "shmOpen", ShmOpen, data);
  setMethod(iso, context, exports, "shmUnlink", ShmUnlink, data);
  setMethod(iso, context, exports, "wake", Wake, data);
  setMethod(iso, context, exports, "waitAsync", WaitAsync, data);
  setMethod(iso, context, exports, "markThreadEnded", MarkThreadEnded, data);
  setMethod(iso, context, exports, "allocUnsafe", AllocUnsafe, data);
  setMethod(iso, context, exports, "regionStats", RegionStats, data);
  setMethod(iso, context, exports, "handOver", HandOver, data);
  setMethod(iso, context, exports, "adopt", Adopt, data);
  setMethod(iso, context, exports, "isFiled", IsFiled, data);
  setMethod(iso, context, exports, "takeInto", TakeInto, data);
  setMethod(iso, context, exports, "setParentDeathSignal", SetParentDeathSignal, data);
  setMethod(iso, context, exports, "yieldCpu", YieldCpu, data);
  setMethod(iso, context, exports, "watchThreadEnd", WatchThreadEnd, data);
}
