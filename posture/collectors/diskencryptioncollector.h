#pragma once

#include "posture/collector.h"

namespace vigil::posture {

// disk_encryption: every persistent mounted filesystem and active swap, followed through sysfs
// down its block-device chain (partitions, LVM, md, dm-crypt), with LUKS version and cipher
// read from the on-disk header where it can be (needs root). Passes only when root and every
// other persistent volume are encrypted; /boot, /boot/efi and /efi are listed but never
// required because the firmware must read them in the clear.
class DiskEncryptionCollector final : public Collector
{
public:
    std::string_view id() const override { return "disk_encryption"; }
    CheckResult collect(const CollectContext &context) override;
};

} // namespace vigil::posture
