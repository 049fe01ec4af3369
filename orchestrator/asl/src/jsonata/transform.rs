//! The transform operator `| pattern | update [, delete] |`: a function that returns a copy of
//! its argument in which every object matched by `pattern` is merged with `update` and loses the
//! keys named by `delete`.

use std::collections::HashSet;
use std::rc::Rc;

use serde_json::Value;

use super::Error;
use super::ast::Node;
use super::eval::{Evaluator, R};
use super::value::Val;

fn identity(v: &Val<'_>) -> Option<usize> {
    match v {
        Val::Json(j @ Value::Object(_)) => Some(std::ptr::from_ref::<Value>(j) as usize),
        Val::Obj(o) => Some(Rc::as_ptr(o) as *const u8 as usize),
        _ => None,
    }
}

pub(crate) fn run<'a>(ev: &mut Evaluator<'a>, node: &'a Node, frame: usize, target: Option<Val<'a>>) -> R<'a> {
    let Node::Transform(pattern, update, delete) = node else { return Ok(None) };
    let Some(target) = target else { return Ok(None) };
    let matches = ev.eval(pattern, &Some(target.clone()), frame)?;
    let matched: HashSet<usize> = match matches {
        None => HashSet::new(),
        Some(m) => (if m.is_array() { m.members() } else { vec![m] }).iter().filter_map(identity).collect(),
    };
    rebuild(ev, &target, &matched, update, delete.as_deref(), frame, 0).map(Some)
}

fn rebuild<'a>(
    ev: &mut Evaluator<'a>,
    v: &Val<'a>,
    matched: &HashSet<usize>,
    update: &'a Node,
    delete: Option<&'a Node>,
    frame: usize,
    depth: usize,
) -> Result<Val<'a>, Error> {
    if depth > 200 {
        return Err(Error::new("U1001", "The document nests too deeply to transform"));
    }
    ev.charge(1)?;
    if v.is_array() {
        let mut out = Vec::new();
        for it in v.members() {
            out.push(rebuild(ev, &it, matched, update, delete, frame, depth + 1)?);
        }
        return Ok(Val::array(out));
    }
    if !v.is_object() {
        return Ok(v.clone());
    }
    let mut fields: Vec<(Rc<str>, Val<'a>)> = Vec::new();
    for (k, child) in v.entries() {
        fields.push((k, rebuild(ev, &child, matched, update, delete, frame, depth + 1)?));
    }
    if identity(v).is_some_and(|id| matched.contains(&id)) {
        if let Some(u) = ev.eval(update, &Some(v.clone()), frame)? {
            if !u.is_object() {
                return Err(Error::new(
                    "T2011",
                    "The insert/update clause of the transform expression must evaluate to an object",
                ));
            }
            for (k, x) in u.entries() {
                match fields.iter_mut().find(|(f, _)| *f == k) {
                    Some(slot) => slot.1 = x,
                    None => fields.push((k, x)),
                }
            }
        }
        if let Some(d) = delete
            && let Some(names) = ev.eval(d, &Some(v.clone()), frame)?
        {
            let names = if names.is_array() { names.members() } else { vec![names] };
            for n in names {
                let Some(n) = n.as_str() else {
                    return Err(Error::new(
                        "T2012",
                        "The delete clause of the transform expression must evaluate to a string or array of strings",
                    ));
                };
                fields.retain(|(k, _)| k.as_ref() != n);
            }
        }
    }
    Ok(Val::Obj(Rc::new(fields)))
}
