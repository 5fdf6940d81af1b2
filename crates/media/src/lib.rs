//! Media for calls: the browser leg (WebRTC), the station-to-station leg (QUIC datagrams)
//! and the relay that joins them, so a station forwards Opus without ever transcoding it.
