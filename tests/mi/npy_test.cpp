// engine/npy: round trips, the exact bytes of the format, malformed files, and files written
// and read by NumPy itself (when a python3 with numpy is installed).
#include <catch.hpp>

#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/npy.h"
#include "tests/mi/test_files.h"

using imx::NpyArray;
using imx::read_npy;
using imx::write_npy;
using imx::test::TempDir;

namespace {

// The bytes of a version-1.0 file built by hand from the format description.
std::string npy_v1(const std::string& dict, const std::string& payload) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += char(1);
  out += char(0);
  out += char(header.size() & 0xff);
  out += char(header.size() >> 8);
  return out + header + payload;
}

std::string floats(std::initializer_list<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), std::data(v), s.size());
  return s;
}

}  // namespace

TEST_CASE("npy round trip of every dtype and rank", "[npy]") {
  TempDir dir("imx_npy_roundtrip");
  const std::vector<double> f8{1.5, -2.25, 3e300, 0, -0.0, 7};
  const std::vector<float> f4{1.5f, -2.25f, 3e30f, 0, -0.0f, 7};
  const std::vector<int32_t> i4{1, -2, 2147483647, 0, -7, 9};
  const std::vector<int64_t> i8{1, -2, int64_t(1) << 60, 0, -7, 9};
  const std::vector<uint8_t> u1{0, 1, 2, 250, 255, 9};
  const std::vector<std::vector<int64_t>> shapes{{6}, {2, 3}, {1, 2, 3}, {3, 1, 2, 1}};
  for (const auto& shape : shapes) {
    auto check = [&](const char* dtype, const void* data, std::size_t bytes) {
      const std::string path = dir.file(std::string("a") + dtype[1] + dtype[2] + ".npy");
      write_npy(path, dtype, shape, data);
      const NpyArray a = read_npy(path);
      CHECK(a.dtype == dtype);
      CHECK(a.shape == shape);
      REQUIRE(a.data.size() == bytes);
      CHECK(std::memcmp(a.data.data(), data, bytes) == 0);
      // Data starts on a 64-byte boundary, as NumPy writes it.
      CHECK((imx::test::read_text(path).size() - bytes) % 64 == 0);
    };
    check("<f8", f8.data(), 48);
    check("<f4", f4.data(), 24);
    check("<i4", i4.data(), 24);
    check("<i8", i8.data(), 48);
    check("|u1", u1.data(), 6);
  }
  const double scalar = 42.5;
  write_npy(dir.file("scalar.npy"), "<f8", {}, &scalar);
  const NpyArray s = read_npy(dir.file("scalar.npy"));
  CHECK(s.shape.empty());
  CHECK(s.numel() == 1);
  CHECK(s.as<double>()[0] == 42.5);
  CHECK(s.shape_string() == "()");
  write_npy(dir.file("empty.npy"), "<f4", std::vector<int64_t>{0, 4}, nullptr);
  CHECK(read_npy(dir.file("empty.npy")).numel() == 0);
  CHECK_THROWS_WITH(s.as<float>(), Catch::Contains("'<f8'"));
  // Atomic write leaves no temporary behind.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    CHECK(entry.path().string().find(".tmp.") == std::string::npos);
    ++files;
  }
  CHECK(files == 7);
}

TEST_CASE("npy writer produces the format's exact bytes", "[npy]") {
  TempDir dir("imx_npy_bytes");
  const std::vector<float> v{0, 1, 2, 3, 4, 5};
  write_npy(dir.file("x.npy"), "<f4", std::vector<int64_t>{2, 3}, v.data());
  CHECK(imx::test::read_text(dir.file("x.npy")) ==
        npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", floats({0, 1, 2, 3, 4, 5})));
  write_npy(dir.file("y.npy"), "<f4", std::vector<int64_t>{1}, v.data());
  CHECK(imx::test::read_text(dir.file("y.npy")) ==
        npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", floats({0})));
}

TEST_CASE("npy reader accepts other spellings and versions 2.0/3.0", "[npy]") {
  TempDir dir("imx_npy_versions");
  // Keys in another order, double quotes, no trailing comma, extra spaces.
  imx::test::write_bytes(dir.file("a.npy"),
                         npy_v1("{\"shape\": ( 3 , ), 'fortran_order':False,'descr':'<f4'}", floats({1, 2, 3})));
  const NpyArray a = read_npy(dir.file("a.npy"));
  CHECK(a.shape == std::vector<int64_t>{3});
  CHECK(a.as<float>()[2] == 3.0f);
  for (char version : {char(2), char(3)}) {
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    while ((12 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string bytes = "\x93NUMPY";
    bytes += version;
    bytes += char(0);
    bytes += std::string{char(header.size() & 0xff), char(header.size() >> 8), 0, 0};
    imx::test::write_bytes(dir.file("v.npy"), bytes + header + floats({5, 6}));
    const NpyArray v = read_npy(dir.file("v.npy"));
    CHECK(v.as<float>()[1] == 6.0f);
  }
}

TEST_CASE("npy reader rejects malformed files with the file's name", "[npy]") {
  TempDir dir("imx_npy_errors");
  const std::string good_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  struct Bad {
    const char* name;
    std::string bytes;
    const char* message;
  };
  const Bad cases[] = {
      {"magic.npy", "NUMPY\x01\x00garbage", "bad magic"},
      {"short.npy", "\x93NU", "bad magic"},
      {"version.npy", std::string("\x93NUMPY\x04\x00\x10\x00", 10) + std::string(16, ' '), "version 4"},
      {"dtype.npy", npy_v1("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", std::string(16, 'x')), "'<c8'"},
      {"bigendian.npy", npy_v1("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", floats({1, 2})), "big-endian"},
      {"fortran.npy", npy_v1("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", floats({1, 2, 3, 4})), "Fortran"},
      {"truncated.npy", npy_v1(good_dict, floats({1, 2, 3})), "truncated data"},
      {"extra.npy", npy_v1(good_dict, floats({1, 2, 3, 4, 5})), "size mismatch"},
      {"header.npy", std::string("\x93NUMPY\x01\x00\xff\x00{'descr'", 18), "truncated header"},
      {"dict.npy", npy_v1("{'descr': '<f4', 'shape': (2, 2), }", floats({1, 2, 3, 4})), "malformed header"},
      {"shape.npy", npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -2), }", ""), "malformed header"},
  };
  for (const Bad& b : cases) {
    INFO(b.name);
    const std::string path = dir.file(b.name);
    imx::test::write_bytes(path, b.bytes);
    CHECK_THROWS_WITH(read_npy(path), Catch::Contains(path) && Catch::Contains(b.message));
  }
  CHECK_THROWS_WITH(read_npy(dir.file("missing.npy")), Catch::Contains("missing.npy") && Catch::Contains("cannot open"));
  const float x = 1;
  CHECK_THROWS_WITH(write_npy(dir.file("no/such/dir/x.npy"), "<f4", std::vector<int64_t>{1}, &x),
                    Catch::Contains("no/such/dir/x.npy"));
  CHECK_THROWS_WITH(write_npy(dir.file("c.npy"), "<c8", std::vector<int64_t>{1}, &x), Catch::Contains("'<c8'"));
}

TEST_CASE("npy files interoperate with NumPy", "[npy]") {
  const std::string py = imx::test::python_with_numpy();
  if (py.empty()) {
    WARN("no python3 with numpy found: skipping the NumPy cross-check (setup.sh installs python3-numpy)");
    return;
  }
  TempDir dir("imx_npy_numpy");
  const std::string d = dir.path().string();
  // NumPy writes; we read.
  const std::string make = py + " -c \"import numpy as np, os; d='" + d + "'\n"
      "np.save(os.path.join(d,'f4.npy'), np.arange(24, dtype='<f4').reshape(2,3,4) / 8)\n"
      "np.save(os.path.join(d,'f8.npy'), np.float64(-1.25))\n"
      "np.save(os.path.join(d,'u1.npy'), np.arange(5, dtype=np.uint8) * 60)\n"
      "np.save(os.path.join(d,'i8.npy'), np.array([[-3, 2**40]], dtype='<i8'))\n"
      "np.lib.format.write_array(open(os.path.join(d,'v2.npy'),'wb'), np.ones((2,2),'<f8'), version=(2,0))\n"
      "np.save(os.path.join(d,'fortran.npy'), np.asfortranarray(np.ones((2,3),'<f4')))\"";
  REQUIRE(std::system(make.c_str()) == 0);
  const NpyArray f4 = read_npy(dir.file("f4.npy"));
  REQUIRE(f4.shape == std::vector<int64_t>{2, 3, 4});
  for (int i = 0; i < 24; ++i) CHECK(f4.as<float>()[i] == float(i) / 8);
  const NpyArray f8 = read_npy(dir.file("f8.npy"));
  CHECK(f8.shape.empty());
  CHECK(f8.as<double>()[0] == -1.25);
  const NpyArray u1 = read_npy(dir.file("u1.npy"));
  CHECK(u1.dtype == "|u1");
  CHECK(u1.as<uint8_t>()[4] == 240);
  const NpyArray i8 = read_npy(dir.file("i8.npy"));
  CHECK(i8.as<int64_t>()[1] == (int64_t(1) << 40));
  CHECK(read_npy(dir.file("v2.npy")).as<double>()[3] == 1.0);
  CHECK_THROWS_WITH(read_npy(dir.file("fortran.npy")), Catch::Contains("Fortran"));
  // We write; NumPy reads and checks.
  const std::vector<float> a{0.5f, -1, 2, 1e-20f, 3, 4};
  write_npy(dir.file("ours_f4.npy"), "<f4", std::vector<int64_t>{3, 2}, a.data());
  const double s = 3.75;
  write_npy(dir.file("ours_scalar.npy"), "<f8", {}, &s);
  const std::string check = py + " -c \"import numpy as np, os; d='" + d + "'\n"
      "a = np.load(os.path.join(d,'ours_f4.npy')); s = np.load(os.path.join(d,'ours_scalar.npy'))\n"
      "assert a.dtype == np.float32 and a.shape == (3, 2), (a.dtype, a.shape)\n"
      "assert (a == np.array([[0.5,-1],[2,1e-20],[3,4]], dtype=np.float32)).all(), a\n"
      "assert s.dtype == np.float64 and s.shape == () and s == 3.75, s\"";
  CHECK(std::system(check.c_str()) == 0);
}
