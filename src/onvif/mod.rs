//! ONVIF: finding cameras on the local network (WS-Discovery) and reading the
//! stream URLs of their media profiles, so adding one is a click.

pub mod discover;
pub mod soap;
