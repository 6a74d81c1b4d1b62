#!/usr/bin/env bash
# Start libvirt for the libvirt provider where no service manager runs it (containers, CI machines),
# and make sure the storage pool vagrant-libvirt uses exists. Idempotent; root.
set -euo pipefail

if ! virsh -c qemu:///system version >/dev/null 2>&1; then
  command -v libvirtd >/dev/null || { echo "error: libvirtd not found: apt-get install libvirt-daemon-system qemu-system-x86" >&2; exit 1; }
  mkdir -p /var/log/libvirt /var/lib/libvirt/images /run/libvirt
  pgrep -x virtlogd >/dev/null || virtlogd -d
  pgrep -x libvirtd >/dev/null || libvirtd -d
  for _ in $(seq 50); do
    virsh -c qemu:///system version >/dev/null 2>&1 && break
    sleep 0.2
  done
  virsh -c qemu:///system version >/dev/null || { echo "error: libvirtd did not start; see /var/log/libvirt/" >&2; exit 1; }
fi
if ! virsh -c qemu:///system pool-info default >/dev/null 2>&1; then
  virsh -c qemu:///system pool-define-as default dir --target /var/lib/libvirt/images >/dev/null
  virsh -c qemu:///system pool-start default >/dev/null
fi
echo "libvirt: running, storage pool 'default' ready"
