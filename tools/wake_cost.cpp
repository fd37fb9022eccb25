// strata-wake-cost: what one sleep and wake-up costs on this machine, the
// cost a paced broker pays per burst of messages (docs/benchmarks.md, "What
// limits the 10,000 msg/s figure").
//
// A reader thread on one core waits in epoll for a loopback TCP socket; a
// writer thread on another core sends it one byte every millisecond (a
// paced publisher). Reported per message:
//   - the reader's CPU time (getrusage of its thread): going to sleep, being
//     woken, one read;
//   - the writer's time inside send(): on loopback the receiver's TCP runs
//     in the sender's system call, and so does waking a sleeping reader.
// The reader waits in one of three ways:
//   direct  epoll_wait on a set holding the socket;
//   nested  epoll_wait on a set holding that set (a Strata core: its TCP
//           connections are on the core's own set, waited on through
//           Asio's), then the inner set, then the re-arm Asio makes;
//   spin    epoll_wait with a zero timeout in a loop: it never sleeps, so
//           the writer never wakes it (the reference without wake-ups).
//
// Each way is run `--repeat` times, interleaved; the medians are printed.
//
// usage: strata-wake-cost [--messages 3000] [--repeat 3] [--reader-cpu 0] [--writer-cpu 1]
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

enum class Wait { direct, nested, spin };

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

double thread_cpu_us() {
  rusage r{};
  getrusage(RUSAGE_THREAD, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

// A connected loopback TCP pair (writer end, reader end), Nagle off as a
// broker's clients have it.
std::pair<int, int> tcp_pair() {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    die("listen");
  const int w = ::socket(AF_INET, SOCK_STREAM, 0);
  if (w < 0 || ::connect(w, reinterpret_cast<sockaddr*>(&addr), len) != 0) die("connect");
  const int r = ::accept(listener, nullptr, nullptr);
  if (r < 0) die("accept");
  ::close(listener);
  const int one = 1;
  ::setsockopt(w, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return {w, r};
}

struct Result {
  double reader_us;
  double send_us;
};

Result run(Wait wait, int messages, int reader_cpu, int writer_cpu) {
  const auto [writer_fd, reader_fd] = tcp_pair();
  const int w = writer_fd;  // plain names: a lambda can capture these
  const int r = reader_fd;
  const int inner = ::epoll_create1(0);
  const int outer = ::epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  if (::epoll_ctl(inner, EPOLL_CTL_ADD, r, &ev) != 0 || ::epoll_ctl(outer, EPOLL_CTL_ADD, inner, &ev) != 0) die("epoll_ctl");

  std::atomic<bool> ready{false};
  double send_ns = 0;
  std::thread writer([&] {
    pin(writer_cpu);
    while (!ready.load()) std::this_thread::yield();
    const char byte = 'x';
    for (int i = 0; i < messages; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      const auto t0 = std::chrono::steady_clock::now();
      if (::send(w, &byte, 1, 0) != 1) die("send");
      send_ns += static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                         std::chrono::steady_clock::now() - t0)
                                         .count());
    }
  });

  pin(reader_cpu);
  const double cpu0 = thread_cpu_us();
  ready = true;
  epoll_event out[8];
  char buf[64];
  for (int got = 0; got < messages;) {
    switch (wait) {
      case Wait::direct:
        ::epoll_wait(inner, out, 8, -1);
        break;
      case Wait::nested:
        ::epoll_wait(outer, out, 8, -1);
        ::epoll_wait(inner, out, 8, 0);
        ::epoll_ctl(outer, EPOLL_CTL_MOD, inner, &ev);
        break;
      case Wait::spin:
        while (::epoll_wait(inner, out, 8, 0) == 0) {
        }
        break;
    }
    const ssize_t n = ::recv(r, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) got += static_cast<int>(n);
  }
  const double cpu = thread_cpu_us() - cpu0;
  writer.join();
  for (int fd : {w, r, inner, outer}) ::close(fd);
  return {wait == Wait::spin ? 0.0 : cpu / messages, send_ns / 1e3 / messages};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int messages = 3000;
  int repeat = 3;
  int reader_cpu = 0;
  int writer_cpu = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 < argc && a == "--messages") {
      messages = std::atoi(argv[++i]);
    } else if (i + 1 < argc && a == "--repeat") {
      repeat = std::atoi(argv[++i]);
    } else if (i + 1 < argc && a == "--reader-cpu") {
      reader_cpu = std::atoi(argv[++i]);
    } else if (i + 1 < argc && a == "--writer-cpu") {
      writer_cpu = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: strata-wake-cost [--messages 3000] [--repeat 3] [--reader-cpu 0] [--writer-cpu 1]\n");
      return 2;
    }
  }
  if (messages <= 0 || repeat <= 0) return 2;
  const std::array<std::pair<Wait, const char*>, 3> modes{{{Wait::direct, "direct"}, {Wait::nested, "nested"}, {Wait::spin, "spin"}}};
  std::array<std::vector<double>, 3> reader;
  std::array<std::vector<double>, 3> send;
  for (int r = 0; r < repeat; ++r) {
    for (std::size_t m = 0; m < modes.size(); ++m) {
      const Result res = run(modes[m].first, messages, reader_cpu, writer_cpu);
      reader[m].push_back(res.reader_us);
      send[m].push_back(res.send_us);
    }
  }
  std::printf("reader waits  reader CPU us per message  writer us in send()   (medians of %d)\n", repeat);
  for (std::size_t m = 0; m < modes.size(); ++m) {
    if (modes[m].first == Wait::spin) {
      std::printf("%-12s  %25s  %19.2f\n", modes[m].second, "(never sleeps)", median(send[m]));
    } else {
      std::printf("%-12s  %25.2f  %19.2f\n", modes[m].second, median(reader[m]), median(send[m]));
    }
  }
  return 0;
}
