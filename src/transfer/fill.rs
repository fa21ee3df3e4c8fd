//! A tensor's bytes written in order as they arrive, from a network stream or a reader: the
//! one copy goes from each arriving chunk into GPU-visible memory through
//! `queue.write_buffer`, and nothing holds the whole tensor on the host.

use crate::{DType, Error, Result, Tensor};

/// Bytes written between submissions: `write_buffer` data waits in staging memory until the
/// next submit, so a long stream must submit as it goes or it holds the whole file there.
const FLUSH_BYTES: u64 = 16 << 20;

/// Writes a fresh tensor's row-major little-endian bytes in order.
pub(crate) struct Fill {
    tensor: Tensor,
    /// Bytes received so far.
    at: u64,
    /// Received bytes not yet written: fewer than 4, as writes are whole words.
    carry: [u8; 4],
    carry_len: usize,
    /// Bytes written since the last submission.
    unflushed: u64,
}

impl Fill {
    pub fn new(tensor: Tensor) -> Fill {
        Fill {
            tensor,
            at: 0,
            carry: [0; 4],
            carry_len: 0,
            unflushed: 0,
        }
    }

    /// Bytes still expected.
    pub fn remaining(&self) -> u64 {
        self.tensor.size_in_bytes() - self.at
    }

    /// Writes the next bytes, at most [`Fill::remaining`] of them. Bool bytes must be 0 or 1.
    pub fn push(&mut self, mut bytes: &[u8]) -> Result<()> {
        debug_assert!(bytes.len() as u64 <= self.remaining());
        if self.tensor.dtype() == DType::Bool {
            crate::core::layout::cast_checked::<bool>(bytes, self.at as usize)?;
        }
        let start = self.at - self.carry_len as u64;
        self.at += bytes.len() as u64;
        let mut word_at = start;
        if self.carry_len > 0 {
            let take = (4 - self.carry_len).min(bytes.len());
            self.carry[self.carry_len..self.carry_len + take].copy_from_slice(&bytes[..take]);
            self.carry_len += take;
            bytes = &bytes[take..];
            if self.carry_len < 4 && self.at < self.tensor.size_in_bytes() {
                return Ok(());
            }
            let word = self.carry;
            self.write(word_at, &word)?;
            word_at += 4;
            self.carry_len = 0;
        }
        let whole = bytes.len() & !3;
        if whole > 0 {
            self.write(word_at, &bytes[..whole])?;
            word_at += whole as u64;
        }
        let rest = &bytes[whole..];
        self.carry = [0; 4];
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carry_len = rest.len();
        if self.carry_len > 0 && self.remaining() == 0 {
            // The tensor's last word: its padding bytes are zero, as an upload leaves them.
            let word = self.carry;
            self.write(word_at, &word)?;
            self.carry_len = 0;
        }
        if self.unflushed >= FLUSH_BYTES {
            self.tensor.gpu().queue().submit([]);
            self.unflushed = 0;
        }
        Ok(())
    }

    /// The tensor, once every byte has arrived.
    pub fn finish(self) -> Result<Tensor> {
        if self.remaining() > 0 {
            return Err(Error::gpu(format!(
                "{} of the tensor's {} bytes never arrived",
                self.remaining(),
                self.tensor.size_in_bytes()
            )));
        }
        Ok(self.tensor)
    }

    /// Writes whole words at byte `at` of the tensor (a multiple of 4), split over its chunks.
    fn write(&mut self, mut at: u64, mut bytes: &[u8]) -> Result<()> {
        let inner = &self.tensor.inner;
        let chunk_bytes = (inner.chunk_elems * inner.dtype.size_in_bytes()) as u64;
        let gpu = &inner.gpu;
        gpu.check()?;
        while !bytes.is_empty() {
            let chunk = (at / chunk_bytes) as usize;
            let within = at % chunk_bytes;
            let n = ((chunk_bytes - within) as usize).min(bytes.len());
            let offset = if chunk == 0 { inner.offset } else { 0 } + within;
            gpu.queue()
                .write_buffer(&inner.chunks[chunk], offset, &bytes[..n]);
            self.unflushed += n as u64;
            at += n as u64;
            bytes = &bytes[n..];
        }
        Ok(())
    }
}
