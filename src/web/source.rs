//! The bytes of whatever JS hands `gpu.load`, pushed into a [`LoadStream`] as they arrive: a
//! `Response` or URL (fetched) and a Blob or File are read from their `ReadableStream`, an
//! ArrayBuffer or typed array in slices. Only one slice at a time passes through wasm memory.

use js_sys::{ArrayBuffer, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{JsTensor, js_error, type_error};
use crate::{Gpu, LoadOptions, LoadStream, Tensor};

/// Bytes copied into wasm memory per push, for sources already in JS memory.
const SLICE: u32 = 4 << 20;

/// Calls `o.name(...args)`.
fn call(o: &JsValue, name: &str, args: &js_sys::Array) -> Result<JsValue, JsValue> {
    let f: Function = Reflect::get(o, &name.into())?.dyn_into()?;
    f.apply(o, args)
}

/// Calls `o.name()` and awaits the Promise it returns.
async fn call_await(o: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    let p: Promise = call(o, name, &js_sys::Array::new())?.dyn_into()?;
    JsFuture::from(p).await
}

fn string(o: &JsValue, key: &str) -> Option<String> {
    Reflect::get(o, &key.into()).ok()?.as_string()
}

fn has(o: &JsValue, key: &str) -> bool {
    o.is_object() && Reflect::has(o, &key.into()).unwrap_or(false)
}

/// The last path segment of a URL, for the format and error messages.
fn file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// Pushes a JS byte array into the stream through `buf`, a slice at a time.
fn push_array(
    stream: &mut LoadStream,
    bytes: &Uint8Array,
    buf: &mut Vec<u8>,
) -> Result<(), JsValue> {
    let total = bytes.length();
    let mut at = 0;
    while at < total {
        let n = SLICE.min(total - at);
        buf.resize(n as usize, 0);
        bytes.subarray(at, at + n).copy_to(buf);
        stream.push(buf).map_err(js_error)?;
        at += n;
    }
    Ok(())
}

/// Hands `arrays` to `on_array(name, tensor)` one by one, if there is one; else keeps them in
/// `kept` for the caller.
fn deliver(
    arrays: Vec<(String, Tensor)>,
    on_array: Option<&Function>,
    kept: &mut Vec<(String, Tensor)>,
) -> Result<(), JsValue> {
    let Some(f) = on_array else {
        kept.extend(arrays);
        return Ok(());
    };
    for (name, t) in arrays {
        f.call2(&JsValue::NULL, &name.into(), &JsTensor::new(t).into())?;
    }
    Ok(())
}

/// Pushes a JS byte array into the stream, then hands the arrays it completed to `on_array`.
fn push_and_deliver(
    stream: &mut LoadStream,
    bytes: &Uint8Array,
    buf: &mut Vec<u8>,
    on_array: Option<&Function>,
    kept: &mut Vec<(String, Tensor)>,
) -> Result<(), JsValue> {
    push_array(stream, bytes, buf)?;
    if on_array.is_some() {
        deliver(stream.take_loaded(), on_array, kept)?;
    }
    Ok(())
}

/// Ends the stream: the arrays not yet handed to `on_array` go to it, or all are returned.
fn finish(
    stream: LoadStream,
    on_array: Option<&Function>,
    mut kept: Vec<(String, Tensor)>,
) -> Result<Vec<(String, Tensor)>, JsValue> {
    deliver(stream.finish().map_err(js_error)?, on_array, &mut kept)?;
    Ok(kept)
}

/// Loads every array of `source` (see `Gpu.load`), streaming it to the GPU. With `on_array`,
/// each array goes to it as soon as its data has arrived, and none is returned.
pub(crate) async fn load(
    gpu: &Gpu,
    source: JsValue,
    name: Option<String>,
    opts: &LoadOptions,
    on_array: Option<&Function>,
) -> Result<Vec<(String, Tensor)>, JsValue> {
    let mut kept = Vec::new();
    let mut source = source;
    let mut found = None;
    if let Some(url) = source.as_string() {
        let fetch: Function = Reflect::get(&js_sys::global(), &"fetch".into())?.dyn_into()?;
        let p: Promise = fetch
            .call1(&JsValue::NULL, &url.clone().into())?
            .dyn_into()?;
        source = JsFuture::from(p).await?;
        found = Some(file_name(&url));
    }
    let mut buf = Vec::new();
    let bytes = if let Some(ab) = source.dyn_ref::<ArrayBuffer>() {
        Some(Uint8Array::new(ab))
    } else if ArrayBuffer::is_view(&source) {
        let buffer = Reflect::get(&source, &"buffer".into())?;
        let offset = Reflect::get(&source, &"byteOffset".into())?
            .as_f64()
            .unwrap_or(0.0);
        let len = Reflect::get(&source, &"byteLength".into())?
            .as_f64()
            .unwrap_or(0.0);
        Some(Uint8Array::new_with_byte_offset_and_length(
            &buffer,
            offset as u32,
            len as u32,
        ))
    } else {
        None
    };
    if let Some(bytes) = bytes {
        let mut stream = gpu.load_stream(name.as_deref().unwrap_or(""), opts);
        stream.set_len(bytes.length() as u64);
        push_and_deliver(&mut stream, &bytes, &mut buf, on_array, &mut kept)?;
        return finish(stream, on_array, kept);
    }
    if !has(&source, "arrayBuffer") {
        return Err(type_error(
            "load() takes an ArrayBuffer, a typed array, a Blob or File, a Response, or a URL \
             string",
        ));
    }
    // A Response (check it succeeded), or a Blob / File.
    let response = has(&source, "ok");
    if response && Reflect::get(&source, &"ok".into())? == JsValue::FALSE {
        let status = Reflect::get(&source, &"status".into())?
            .as_f64()
            .unwrap_or(0.0);
        let url = string(&source, "url").unwrap_or_default();
        return Err(js_sys::Error::new(&format!("HTTP {status} fetching {url}")).into());
    }
    let name = name
        .or(found)
        .or_else(|| string(&source, "name"))
        .or_else(|| string(&source, "url").map(|u| file_name(&u)))
        .unwrap_or_default();
    let mut stream = gpu.load_stream(&name, opts);
    let (body, len) = if response {
        let headers = Reflect::get(&source, &"headers".into())?;
        let header = |key: &str| {
            call(&headers, "get", &js_sys::Array::of1(&key.into()))
                .ok()
                .and_then(|v| v.as_string())
        };
        // A compressed response's Content-Length counts the compressed bytes.
        let len = match header("content-encoding") {
            Some(enc) if enc != "identity" => None,
            _ => header("content-length").and_then(|l| l.parse::<u64>().ok()),
        };
        (Reflect::get(&source, &"body".into())?, len)
    } else {
        let size = Reflect::get(&source, &"size".into())?.as_f64();
        (
            call(&source, "stream", &js_sys::Array::new())?,
            size.map(|s| s as u64),
        )
    };
    if let Some(len) = len {
        stream.set_len(len);
    }
    if body.is_null() || body.is_undefined() {
        // An empty body.
        return finish(stream, on_array, kept);
    }
    let reader = call(&body, "getReader", &js_sys::Array::new())?;
    loop {
        let next = call_await(&reader, "read").await?;
        if Reflect::get(&next, &"done".into())?.is_truthy() {
            break;
        }
        let chunk: Uint8Array = Reflect::get(&next, &"value".into())?.dyn_into()?;
        if let Err(e) = push_and_deliver(&mut stream, &chunk, &mut buf, on_array, &mut kept) {
            // Stop the download too.
            let _ = call(&reader, "cancel", &js_sys::Array::new());
            return Err(e);
        }
    }
    finish(stream, on_array, kept)
}
