#pragma once
// CRC-32C (Castagnoli polynomial, reflected 0x82F63B78) and the "masked" form that TFRecord
// framing stores, so a reader can verify TensorBoard event files without TensorFlow:
// masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8 (TensorFlow's python_io record format).
// The check value of "123456789" is 0xE3069283 (Castagnoli et al. 1993; RFC 3720 App. B.4).
#include <cstddef>
#include <cstdint>

namespace scalinglab::monitor {

uint32_t crc32c(const void* data, size_t size, uint32_t crc = 0);  // crc: a previous result to extend
uint32_t mask_crc32c(uint32_t crc);

}  // namespace scalinglab::monitor
