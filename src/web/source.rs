//! The bytes of whatever JS hands `gpu.load`: an ArrayBuffer, a typed array, a Blob or File, a
//! `Response`, or a URL to fetch.

use js_sys::{ArrayBuffer, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::type_error;

/// Calls `o.name()` and awaits the Promise it returns.
async fn call(o: &JsValue, name: &str, args: &js_sys::Array) -> Result<JsValue, JsValue> {
    let f: Function = Reflect::get(o, &name.into())?.dyn_into()?;
    let p: Promise = f.apply(o, args)?.dyn_into()?;
    JsFuture::from(p).await
}

fn string(o: &JsValue, key: &str) -> Option<String> {
    Reflect::get(o, &key.into()).ok()?.as_string()
}

/// The last path segment of a URL, for the format and error messages.
fn file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// The bytes of `source`, and a name to tell the format by when it has one.
pub(crate) async fn read(source: JsValue) -> Result<(Vec<u8>, Option<String>), JsValue> {
    let mut source = source;
    let mut name = None;
    if let Some(url) = source.as_string() {
        let fetch: Function = Reflect::get(&js_sys::global(), &"fetch".into())?.dyn_into()?;
        let p: Promise = fetch
            .call1(&JsValue::NULL, &url.clone().into())?
            .dyn_into()?;
        source = JsFuture::from(p).await?;
        name = Some(file_name(&url));
    }
    if let Some(ab) = source.dyn_ref::<ArrayBuffer>() {
        return Ok((Uint8Array::new(ab).to_vec(), name));
    }
    if ArrayBuffer::is_view(&source) {
        let buffer = Reflect::get(&source, &"buffer".into())?;
        let offset = Reflect::get(&source, &"byteOffset".into())?
            .as_f64()
            .unwrap_or(0.0);
        let len = Reflect::get(&source, &"byteLength".into())?
            .as_f64()
            .unwrap_or(0.0);
        let view = Uint8Array::new_with_byte_offset_and_length(&buffer, offset as u32, len as u32);
        return Ok((view.to_vec(), name));
    }
    let has = |key: &str| Reflect::has(&source, &key.into()).unwrap_or(false);
    if source.is_object() && has("arrayBuffer") {
        // A Response (check it succeeded) or a Blob / File.
        if has("ok") && Reflect::get(&source, &"ok".into())? == JsValue::FALSE {
            let status = Reflect::get(&source, &"status".into())?
                .as_f64()
                .unwrap_or(0.0);
            let url = string(&source, "url").unwrap_or_default();
            return Err(js_sys::Error::new(&format!("HTTP {status} fetching {url}")).into());
        }
        name = name
            .or_else(|| string(&source, "name"))
            .or_else(|| string(&source, "url").map(|u| file_name(&u)))
            .filter(|n| !n.is_empty());
        let ab = call(&source, "arrayBuffer", &js_sys::Array::new()).await?;
        return Ok((Uint8Array::new(&ab).to_vec(), name));
    }
    Err(type_error(
        "load() takes an ArrayBuffer, a typed array, a Blob or File, a Response, or a URL string",
    ))
}
