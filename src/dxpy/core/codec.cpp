#include "dxpy/core/codec.h"

#include "dxpy/core/codec_visit.h"

namespace dxpy {

namespace {
template <class T> constexpr CodecTag tag_of();
template <> constexpr CodecTag tag_of<TestId>() { return CodecTag::kTestId; }
template <> constexpr CodecTag tag_of<Marker>() { return CodecTag::kMarker; }
template <> constexpr CodecTag tag_of<FixtureId>() { return CodecTag::kFixtureId; }
template <> constexpr CodecTag tag_of<TestCase>() { return CodecTag::kTestCase; }
template <> constexpr CodecTag tag_of<AssertionStats>() { return CodecTag::kAssertionStats; }
template <> constexpr CodecTag tag_of<TestResult>() { return CodecTag::kTestResult; }
template <> constexpr CodecTag tag_of<FixtureDef>() { return CodecTag::kFixtureDef; }
template <> constexpr CodecTag tag_of<ImportRef>() { return CodecTag::kImportRef; }
template <> constexpr CodecTag tag_of<FileRecord>() { return CodecTag::kFileRecord; }

}  // namespace

std::string encode(const TestId& v) { return encode_tagged(v, static_cast<uint8_t>(tag_of<TestId>()), kCodecVersion); }
std::string encode(const Marker& v) { return encode_tagged(v, static_cast<uint8_t>(tag_of<Marker>()), kCodecVersion); }
std::string encode(const FixtureId& v) { return encode_tagged(v, static_cast<uint8_t>(tag_of<FixtureId>()), kCodecVersion); }
std::string encode(const TestCase& v) { return encode_tagged(v, static_cast<uint8_t>(tag_of<TestCase>()), kCodecVersion); }
std::string encode(const AssertionStats& v) { return encode_tagged(v, static_cast<uint8_t>(tag_of<AssertionStats>()), kCodecVersion); }
std::string encode(const TestResult& v) { return encode_tagged(v, static_cast<uint8_t>(tag_of<TestResult>()), kCodecVersion); }
std::string encode(const FixtureDef& v) { return encode_tagged(v, static_cast<uint8_t>(tag_of<FixtureDef>()), kCodecVersion); }
std::string encode(const ImportRef& v) { return encode_tagged(v, static_cast<uint8_t>(tag_of<ImportRef>()), kCodecVersion); }
std::string encode(const FileRecord& v) { return encode_tagged(v, static_cast<uint8_t>(tag_of<FileRecord>()), kCodecVersion); }

template <class T>
Expected<T> decode(std::string_view bytes) {
  return decode_tagged<T>(bytes, static_cast<uint8_t>(tag_of<T>()), kCodecVersion);
}

template Expected<TestId> decode<TestId>(std::string_view);
template Expected<Marker> decode<Marker>(std::string_view);
template Expected<FixtureId> decode<FixtureId>(std::string_view);
template Expected<TestCase> decode<TestCase>(std::string_view);
template Expected<AssertionStats> decode<AssertionStats>(std::string_view);
template Expected<TestResult> decode<TestResult>(std::string_view);
template Expected<FixtureDef> decode<FixtureDef>(std::string_view);
template Expected<ImportRef> decode<ImportRef>(std::string_view);
template Expected<FileRecord> decode<FileRecord>(std::string_view);

Expected<FileRecordHead> decode_record_head(std::string_view bytes) {
  return decode_tagged<FileRecordHead>(bytes, static_cast<uint8_t>(CodecTag::kFileRecord), kCodecVersion, false);
}

}  // namespace dxpy
