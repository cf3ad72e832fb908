//! Background jobs as the services see them: the recorded runs (`runs`) and the queue seam
//! (`queue`) that the server crate's apalis runner implements.
pub mod queue;
pub mod runs;
