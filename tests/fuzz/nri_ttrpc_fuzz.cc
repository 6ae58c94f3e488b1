// Fuzzes the ttrpc decoder and the plugin's request handling: the input is decoded as a
// ttrpc.Request envelope and, whatever it contains (or, when it is not an envelope, as the
// payload of a method picked by the first byte), handed to the Plugin service, which must answer
// every request with a response and never crash. Responses are decoded too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "nri/plugin_service.h"
#include "nri/ttrpc.h"

namespace {

class NeutralHandler final : public topod::nri::EventHandler {
 public:
  topod::Result<std::vector<topod::nri::Update>> onSynchronize(
      const std::vector<topod::nri::Pod>&, const std::vector<topod::nri::Container>& containers) override {
    std::vector<topod::nri::Update> updates;
    for (const auto& c : containers) updates.push_back({c.id, c.resources, false});
    return updates;
  }
  topod::Result<topod::nri::CreateReply> onCreateContainer(const topod::nri::Pod&,
                                                           const topod::nri::Container& c) override {
    return topod::nri::CreateReply{topod::nri::Adjustment{c.resources}, {}};
  }
  topod::Result<std::vector<topod::nri::Update>> onUpdateContainer(const topod::nri::Pod&,
                                                                   const topod::nri::Container& c,
                                                                   const topod::nri::LinuxResources& r) override {
    return std::vector<topod::nri::Update>{{c.id, r, false}};
  }
  topod::Result<std::vector<topod::nri::Update>> onStopContainer(const topod::nri::Pod&,
                                                                 const topod::nri::Container&) override {
    return std::vector<topod::nri::Update>{};
  }
};

constexpr const char* kMethods[] = {"Configure",        "Synchronize",
                                    "CreateContainer",  "UpdateContainer",
                                    "StopContainer",    "StateChange",
                                    "UpdatePodSandbox", "RunPodSandbox",
                                    "StartContainer",   "RemoveContainer",
                                    "RemovePodSandbox", "PostUpdatePodSandbox",
                                    "Shutdown",         "ValidateContainerAdjustment"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  NeutralHandler handler;
  topod::nri::PluginService service(0x1FFF, handler, [](const topod::Error& e) { TOPOD_CHECK(!e.message().empty()); });
  (void)topod::nri::ttrpc::decodeResponse(input);
  auto request = topod::nri::ttrpc::decodeRequest(input);
  topod::nri::ttrpc::Request call;
  if (request.has_value()) {
    call = *request;
  } else if (!input.empty()) {
    call.service = topod::nri::kPluginServiceName;
    call.method = kMethods[static_cast<unsigned char>(input[0]) % std::size(kMethods)];
    call.payload = std::string(input.substr(1));
  }
  // The same request twice: state (pod cache, split sync) must survive repeated input.
  for (int i = 0; i < 2; ++i) {
    topod::nri::ttrpc::Response response = service.handle(call);
    if (response.code != topod::ErrorCode::Ok) TOPOD_CHECK(response.payload.empty());
    TOPOD_CHECK(topod::nri::ttrpc::encodeResponse(1, response).has_value() ||
                response.payload.size() > topod::nri::ttrpc::kMaxDataLength - 16);
  }
  return 0;
}
