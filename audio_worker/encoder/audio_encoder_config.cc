#include "audio_worker/encoder/audio_encoder_config.h"

#include "absl/strings/str_cat.h"

namespace gemma3n {

absl::StatusOr<AudioEncoderConfig> ParseAudioEncoderConfig(const nlohmann::json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("config: audio_config is not an object");
  AudioEncoderConfig c;
  try {
    c.input_feat_size = j.value("input_feat_size", c.input_feat_size);
    c.hidden_size = j.at("hidden_size").get<int>();
    c.rms_norm_eps = j.value("rms_norm_eps", c.rms_norm_eps);
    c.gradient_clipping = j.value("gradient_clipping", c.gradient_clipping);
    c.attention_logit_cap = j.value("conf_attention_logit_cap", c.attention_logit_cap);
    c.residual_weight = j.value("conf_residual_weight", c.residual_weight);
    c.group_norm_eps = j.value("sscp_conv_group_norm_eps", c.group_norm_eps);
    c.conv_kernel = j.at("sscp_conv_kernel_size").get<std::vector<std::array<int, 2>>>();
    c.conv_stride = j.at("sscp_conv_stride_size").get<std::vector<std::array<int, 2>>>();
    c.conv_channels = j.at("sscp_conv_channel_size").get<std::vector<int>>();
    c.num_heads = j.at("conf_num_attention_heads").get<int>();
    c.num_layers = j.at("conf_num_hidden_layers").get<int>();
    c.chunk_size = j.value("conf_attention_chunk_size", c.chunk_size);
    c.context_left = j.value("conf_attention_context_left", c.context_left);
    c.context_right = j.value("conf_attention_context_right", c.context_right);
    c.conv_kernel_size = j.value("conf_conv_kernel_size", c.conv_kernel_size);
    c.reduction_factor = j.value("conf_reduction_factor", c.reduction_factor);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config: bad audio_config: ", e.what()));
  }
  if (c.conv_kernel.size() != 2 || c.conv_stride.size() != 2 || c.conv_channels.size() != 2) {
    return absl::InvalidArgumentError("config: audio_config must describe two SSCP convolutions");
  }
  if (c.hidden_size <= 0 || c.num_heads <= 0 || c.hidden_size % c.num_heads != 0 || c.chunk_size <= 0 ||
      c.context_left < 1 || c.context_right < 0 || c.reduction_factor < 1 || c.conv_kernel_size < 1) {
    return absl::InvalidArgumentError("config: inconsistent audio_config sizes");
  }
  return c;
}

}  // namespace gemma3n
