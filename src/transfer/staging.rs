//! Packing the pieces of one or many tensors into reused staging buffers: one map and one
//! submission per staging buffer, however many tensors it holds.

use std::ops::Range;

use crate::runtime::tensor::Piece;
use crate::{Gpu, Result, Tensor};

/// One piece of one tensor, placed in a staging buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    /// Index of the tensor in the batch.
    pub item: usize,
    pub piece: Piece,
    /// Byte offset in the staging buffer (a multiple of 8, as mapping requires).
    pub offset: u64,
    /// Bytes, rounded up to whole words.
    pub bytes: u64,
}

/// Slots grouped so that each group fills one staging buffer of at most `limit` bytes.
pub(crate) struct Plan {
    pub slots: Vec<Slot>,
    /// Slot ranges and the bytes each group spans.
    pub groups: Vec<(Range<usize>, u64)>,
}

impl Plan {
    /// Splits every tensor into pieces of at most `limit` bytes and packs them, in order, into
    /// groups of at most `limit` bytes.
    pub fn new(tensors: &[&Tensor], limit: u64) -> Plan {
        let mut slots = Vec::new();
        let mut groups = Vec::new();
        let (mut first, mut used) = (0, 0u64);
        for (item, t) in tensors.iter().enumerate() {
            for piece in t.pieces(limit) {
                let bytes = piece.padded_bytes(&t.inner);
                if used > 0 && used + bytes > limit {
                    groups.push((first..slots.len(), used));
                    (first, used) = (slots.len(), 0);
                }
                slots.push(Slot {
                    item,
                    piece,
                    offset: used,
                    bytes,
                });
                used += bytes.next_multiple_of(wgpu::MAP_ALIGNMENT);
            }
        }
        if slots.len() > first {
            groups.push((first..slots.len(), used));
        }
        Plan { slots, groups }
    }

    /// Up to two staging buffers from the pool, big enough for the largest group; groups
    /// alternate between them so the host side of group k+1 overlaps the device side of group k.
    pub fn staging(
        &self,
        gpu: &Gpu,
        what: &'static str,
        usage: wgpu::BufferUsages,
    ) -> Result<Vec<wgpu::Buffer>> {
        let Some(largest) = self.groups.iter().map(|g| g.1).max() else {
            return Ok(Vec::new());
        };
        let pool = gpu.pool();
        let class = pool.class(largest);
        let mut staging = Vec::with_capacity(2);
        for _ in 0..self.groups.len().min(2) {
            match pool.take(gpu, what, class, usage) {
                Ok(b) => staging.push(b),
                Err(e) => {
                    crate::runtime::pool::give_all(pool, staging, true);
                    return Err(e);
                }
            }
        }
        Ok(staging)
    }

    /// Records one copy per slot of `group` between the staging buffer and the tensors.
    pub fn encode_copies(
        &self,
        gpu: &Gpu,
        group: usize,
        tensors: &[&Tensor],
        staging: &wgpu::Buffer,
        to_device: bool,
    ) -> wgpu::CommandBuffer {
        let mut enc = gpu.device().create_command_encoder(&Default::default());
        for s in &self.slots[self.groups[group].0.clone()] {
            let inner = &tensors[s.item].inner;
            let (buf, off) = (&inner.chunks[s.piece.chunk], s.piece.offset(inner));
            if to_device {
                enc.copy_buffer_to_buffer(staging, s.offset, buf, off, s.bytes);
            } else {
                enc.copy_buffer_to_buffer(buf, off, staging, s.offset, s.bytes);
            }
        }
        enc.finish()
    }
}
