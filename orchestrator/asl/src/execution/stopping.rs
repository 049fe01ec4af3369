//! Stopping frames: a branch or iteration abandoned because a sibling failed (recorded as AWS
//! records it), or because the execution ended (recorded by nobody).

use super::{Action, Children, Cursor, Cx, MapRunStatus, Wait};
use crate::history::EventKind;
use crate::machine::State;

impl Cx<'_> {
    /// Stops the children still running because one of them failed: each records
    /// `<Type>StateAborted` for the state it was in (inner frames first), and an inline Map's
    /// iteration `MapIterationAborted`, as AWS records them. A stop or a time-out of the whole
    /// execution records none of these: it uses [`Cx::abort_frame`] alone.
    pub(crate) fn cancel_children(&mut self, parent: usize, parent_state: &State, children: &Children) {
        self.cancel_running(parent, parent_state, &children.running);
    }

    fn cancel_running(&mut self, parent: usize, parent_state: &State, running: &[(usize, usize)]) {
        let iterations = parent_state.kind.has_inline_iterations().then_some(&parent_state.name);
        for &(slot, child) in running {
            self.cancel_frame(child);
            if let Some(name) = iterations {
                self.emit(parent, EventKind::MapIterationAborted { name: name.clone(), index: slot });
            }
        }
    }

    /// [`Cx::abort_frame`], recording what was stopped (see [`Cx::cancel_children`]).
    fn cancel_frame(&mut self, fid: usize) {
        let active = match self.exec.frames.get(fid).and_then(Option::as_ref).map(|f| &f.cursor) {
            Some(Cursor::Blocked(active) | Cursor::Run(active)) => {
                let running = match &active.wait {
                    Wait::Children(children) => children.running.clone(),
                    _ => Vec::new(),
                };
                Some((active.state, running))
            }
            _ => None,
        };
        let machine = self.machine();
        if let Some((state, running)) = active
            && let Some(st) = machine.state(state)
        {
            self.cancel_running(fid, st, &running);
            if let Some(event) = st.kind.aborted_event() {
                self.emit(fid, event);
            }
        }
        self.abort_frame(fid);
    }

    /// Abandons frame `fid` and everything under it, cancelling its tasks and timers.
    pub(crate) fn abort_frame(&mut self, fid: usize) {
        let Some(mut frame) = self.exec.frames.get_mut(fid).and_then(Option::take) else {
            return;
        };
        self.child_ended(fid, &frame, None);
        let children = match &mut frame.cursor {
            Cursor::Blocked(active) | Cursor::Run(active) => match &active.wait {
                Wait::Children(children) => {
                    let map_run = children.map_run;
                    self.map_run(map_run, |run, now| run.end(MapRunStatus::Aborted, now));
                    children.running_frames()
                }
                _ => {
                    let wait = std::mem::replace(&mut active.wait, Wait::None);
                    self.abort_wait(wait);
                    Vec::new()
                }
            },
            Cursor::Enter { .. } | Cursor::Done => Vec::new(),
        };
        self.keep_unfinished(fid, frame);
        for child in children {
            self.abort_frame(child);
        }
    }

    pub(crate) fn abort_wait(&mut self, wait: Wait) {
        match wait {
            Wait::None => {}
            Wait::Task(task_id) => {
                if self.exec.tasks.remove(&task_id).is_some() {
                    self.exec.tokens.retain(|_, id| *id != task_id);
                    self.out.actions.push(Action::CancelTask { task_id });
                }
            }
            Wait::Timer(timer_id) | Wait::Backoff(timer_id) => {
                if self.exec.timers.remove(&timer_id).is_some() {
                    self.out.actions.push(Action::CancelTimer { timer_id });
                }
            }
            Wait::Children(children) => {
                for child in children.running_frames() {
                    self.abort_frame(child);
                }
            }
        }
    }
}
