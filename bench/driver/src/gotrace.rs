//! Counting the events of an execution trace in Go's "go 1.19 trace" format, which
//! both gort (GORT_TRACE) and Go 1.19's runtime/trace write: for the `trace`
//! benchmark's bytes per event, without running `go tool trace` on traces of
//! millions of events.
//!
//! The format (Go's internal/trace, readTrace): a 16-byte header `go 1.19 trace`,
//! then records. A record is a byte (type in the low 6 bits, argument count − 1 in
//! the top 2) and LEB128 arguments: with a count field of 3, the first value is the
//! length in bytes of the arguments that follow. EvString is an id, a length and
//! that many bytes; EvUserLog is followed by a string (length, bytes).

use crate::Result;

/// Record types that are not events: batch headers, the frequency, stacks and
/// strings (Go's EvBatch, EvFrequency, EvStack, EvString).
const EV_BATCH: u8 = 1;
const EV_FREQUENCY: u8 = 2;
const EV_STACK: u8 = 3;
const EV_STRING: u8 = 37;
const EV_USER_LOG: u8 = 48;
/// Go 1.19's EvCount: types at or above it are invalid.
const EV_COUNT: u8 = 50;

/// The number of events in trace `b`: every record but batch headers, the
/// frequency, stacks and strings: on a gort trace (sieve, 24,076) and a Go one
/// (pingpong, 120,834) exactly the events `go tool trace -d` prints. Fails on a
/// malformed trace.
pub fn count_events(b: &[u8]) -> Result<u64> {
    if b.len() < 16 || !b.starts_with(b"go 1.19 trace\0") {
        return Err("not a go 1.19 trace (bad header)".into());
    }
    let mut i = 16;
    let var = |i: &mut usize| -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let c = *b.get(*i).ok_or("trace ends inside a value")?;
            *i += 1;
            v |= u64::from(c & 0x7f) << shift;
            if c < 0x80 {
                return Ok(v);
            }
        }
        Err(format!("value too long at offset {i}"))
    };
    let skip = |i: &mut usize, n: u64| -> Result<()> {
        let end = i.checked_add(n as usize).filter(|&e| e <= b.len());
        *i = end.ok_or("trace ends inside a record")?;
        Ok(())
    };
    let mut events = 0;
    while i < b.len() {
        let off = i;
        let h = b[i];
        i += 1;
        let (typ, narg) = (h & 0x3f, u64::from(h >> 6) + 1);
        if typ == 0 || typ >= EV_COUNT {
            return Err(format!("unknown record type {typ} at offset {off}"));
        }
        if typ == EV_STRING {
            var(&mut i)?;
            let len = var(&mut i)?;
            skip(&mut i, len)?;
            continue;
        }
        if narg < 4 {
            for _ in 0..narg {
                var(&mut i)?;
            }
        } else {
            let len = var(&mut i)?;
            skip(&mut i, len)?;
        }
        if typ == EV_USER_LOG {
            let len = var(&mut i)?;
            skip(&mut i, len)?;
        }
        if !matches!(typ, EV_BATCH | EV_FREQUENCY | EV_STACK) {
            events += 1;
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_events_not_metadata() {
        let mut t = b"go 1.19 trace\0\0\0".to_vec();
        // EvBatch(p 0, ts 1000), GoStart(ts, g 7, seq 1), GoUnblock with a length,
        // a string, a stack with a length, EvFrequency.
        t.extend([EV_BATCH | 1 << 6, 0, 0xe8, 0x07]);
        t.extend([14 | 2 << 6, 10, 7, 1]);
        t.extend([21 | 3 << 6, 5, 0xa2, 0x02, 7, 2, 0]);
        t.extend([EV_STRING, 3, 2, b'h', b'i']);
        t.extend([EV_STACK | 3 << 6, 3, 1, 1, 9]);
        t.extend([EV_FREQUENCY, 0x80, 0x01]);
        assert_eq!(count_events(&t).unwrap(), 2);
        assert!(count_events(&t[..t.len() - 1]).is_err());
        assert!(count_events(b"go 1.18 trace\0\0\0").is_err());
        let mut bad = b"go 1.19 trace\0\0\0".to_vec();
        bad.push(63);
        assert!(count_events(&bad).is_err());
    }
}
