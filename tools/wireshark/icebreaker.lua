-- Wireshark dissector for Overte's ICE protocol as Icebreaker speaks it (Wireshark 4.0 Lua API).
--
-- Decodes the UDT header, the NL header (with the header-size rule for sourced/verified types) and
-- every ICE payload. Payloads start right after the NL header: every ICE type is non-sourced, so an
-- ICE packet has a 6-byte header (4 UDT + type + version), not the 22 bytes a sourced and verified
-- packet has. Obfuscated packets are de-obfuscated with the level's key; a payload that does not
-- parse is flagged malformed and shown as raw bytes, never as half-read fields. STUN and TURN
-- ChannelData datagrams are handed to Wireshark's own dissectors.
--
-- Load:  wireshark -X lua_script:tools/wireshark/icebreaker.lua   (see tools/wireshark/README.md)
-- Byte layouts: docs/protocol.md sections 2 and 3; the type table mirrors
-- libraries/networking/src/wire/PacketHeaders.h.

local bxor = bit32.bxor
local band = bit32.band
local rshift = bit32.rshift

local icebreaker = Proto("icebreaker", "Overte ICE (Icebreaker)")

local DEFAULT_PORTS = "7337"
local MAX_PACKET_SIZE = 1392      -- udt::MAX_PACKET_SIZE (1420 - 28)
local MAX_SIGNATURE_BYTES = 1024  -- IceServerHeartbeat::MaxSignatureBytes
local MAX_SCOPE_ID_BYTES = 64     -- longest IPv6 scope id SockAddr accepts
local NULL_LENGTH = 0xFFFFFFFF    -- a null QByteArray / QString on a QDataStream

-- name, version, sourced, verified: the table of PacketHeaders.h.
local PACKET_TYPES = {
    [1]  = { "DomainConnectRequestPending", 17, false, true },
    [2]  = { "DomainList", 25, false, true },
    [13] = { "DomainListRequest", 23, true, false },
    [16] = { "DomainConnectionDenied", 19, false, true },
    [22] = { "ICEServerPeerInformation", 17, false, true },
    [23] = { "ICEServerQuery", 17, false, true },
    [31] = { "DomainConnectRequest", 27, false, true },
    [38] = { "ICEServerHeartbeat", 18, false, true },
    [39] = { "ICEPing", 18, false, true },
    [40] = { "ICEPingReply", 17, false, true },
    [46] = { "DomainServerConnectionToken", 22, false, true },
    [60] = { "ICEServerHeartbeatDenied", 17, false, true },
    [63] = { "ICEServerHeartbeatACK", 17, false, true },
}
local TYPE_NAMES = {}
for number, info in pairs(PACKET_TYPES) do TYPE_NAMES[number] = info[1] end

-- Overte's three obfuscation keys as they sit in little-endian memory.
local OBFUSCATION_KEYS = {
    [1] = { 0x74, 0x65, 0x73, 0x73, 0x69, 0x72, 0x62, 0x63 }, -- "tessirbc"
    [2] = { 0x61, 0x64, 0x72, 0x61, 0x72, 0x69, 0x62, 0x73 }, -- "adraribs"
    [3] = { 0x6e, 0x61, 0x6d, 0x66, 0x66, 0x75, 0x68, 0x72 }, -- "namffuhr"
}

local PING_TYPES = { [0] = "Agnostic", [1] = "Local", [2] = "Public", [3] = "Symmetric" }
local MESSAGE_POSITIONS = { [0] = "Only", [1] = "Last", [2] = "First", [3] = "Middle" }
local ADDRESS_FAMILIES = { [0] = "IPv4", [1] = "IPv6", [2] = "Any", [255] = "Null" }

-- Why a datagram could not be decoded: the same words as WireError, snake_case.
local ERROR_TEXT = {
    truncated = "datagram ends before a field does",
    trailing_bytes = "unexpected bytes after the payload",
    oversized = "length exceeds what a datagram can hold",
    control_packet = "UDT control packet (never used by ICE)",
    unknown_type = "unknown packet type",
    version_mismatch = "packet version differs from the table's; payload not decoded",
    bad_address = "unknown address protocol",
    bad_value = "field value out of range",
}

local f = {
    udt_word = ProtoField.uint32("icebreaker.udt.word", "UDT header word", base.HEX),
    control = ProtoField.bool("icebreaker.udt.control", "Control packet", 32, nil, 0x80000000),
    reliable = ProtoField.bool("icebreaker.udt.reliable", "Reliable", 32, nil, 0x40000000),
    message = ProtoField.bool("icebreaker.udt.message", "Message (multi-part)", 32, nil, 0x20000000),
    obfuscation = ProtoField.uint32("icebreaker.udt.obfuscation", "Obfuscation level", base.DEC, nil, 0x18000000),
    seq = ProtoField.uint32("icebreaker.udt.seq", "Sequence number", base.DEC, nil, 0x07FFFFFF),
    msg_position = ProtoField.uint32("icebreaker.udt.msg_position", "Message position", base.DEC,
                                     MESSAGE_POSITIONS, 0xC0000000),
    msg_number = ProtoField.uint32("icebreaker.udt.msg_number", "Message number", base.DEC, nil, 0x3FFFFFFF),
    msg_part = ProtoField.uint32("icebreaker.udt.msg_part", "Message part number", base.DEC),

    type = ProtoField.uint8("icebreaker.type", "Packet type", base.DEC, TYPE_NAMES),
    type_name = ProtoField.string("icebreaker.type_name", "Packet type name"),
    version = ProtoField.uint8("icebreaker.version", "Version", base.DEC),
    expected_version = ProtoField.uint8("icebreaker.expected_version", "Expected version", base.DEC),
    header_size = ProtoField.uint8("icebreaker.header_size", "NL header size", base.DEC),
    source_id = ProtoField.uint16("icebreaker.source_id", "Source local ID", base.DEC),
    hmac = ProtoField.bytes("icebreaker.hmac", "Verification hash (HMAC-MD5)"),
    payload = ProtoField.bytes("icebreaker.payload", "Payload"),
    error = ProtoField.string("icebreaker.error", "Decode error"),

    domain_id = ProtoField.guid("icebreaker.domain_id", "Domain ID"),
    client_id = ProtoField.guid("icebreaker.client_id", "Client ICE ID"),
    peer_id = ProtoField.guid("icebreaker.peer_id", "Peer ID"),

    signed_data = ProtoField.bytes("icebreaker.heartbeat.signed_data", "Signed plaintext"),
    signed_length = ProtoField.uint32("icebreaker.heartbeat.signed_length", "Signed plaintext length", base.DEC),
    signature_length = ProtoField.uint32("icebreaker.heartbeat.signature_length", "Signature length", base.DEC),
    signature = ProtoField.bytes("icebreaker.heartbeat.signature", "Signature (RSASSA-PKCS1-v1_5, SHA-256)"),

    ping_id = ProtoField.guid("icebreaker.ping.id", "Sender ID"),
    ping_type = ProtoField.uint8("icebreaker.ping.type", "Ping type", base.DEC, PING_TYPES),
    ping_type_name = ProtoField.string("icebreaker.ping.type_name", "Ping type name"),
}

-- One set of address fields per socket role, so filters can say which one they mean.
local function socket_fields(role, title)
    local p = "icebreaker." .. role .. "."
    return {
        family = ProtoField.uint8(p .. "family", title .. " address family", base.DEC, ADDRESS_FAMILIES),
        ipv4 = ProtoField.ipv4(p .. "ipv4", title .. " IPv4 address"),
        ipv6 = ProtoField.ipv6(p .. "ipv6", title .. " IPv6 address"),
        scope_length = ProtoField.uint32(p .. "scope_length", title .. " scope id length", base.DEC),
        scope = ProtoField.string(p .. "scope", title .. " scope id", base.UNICODE),
        port = ProtoField.uint16(p .. "port", title .. " port", base.DEC),
        addr = ProtoField.string(p .. "addr", title .. " socket"),
    }
end
local sockets = { public = socket_fields("public", "Public"), ["local"] = socket_fields("local", "Local") }

local field_list = {}
for _, field in pairs(f) do field_list[#field_list + 1] = field end
for _, set in pairs(sockets) do
    for _, field in pairs(set) do field_list[#field_list + 1] = field end
end
icebreaker.fields = field_list

local e = {
    malformed = ProtoExpert.new("icebreaker.malformed", "Malformed Icebreaker packet",
                                expert.group.MALFORMED, expert.severity.ERROR),
    obfuscated = ProtoExpert.new("icebreaker.obfuscated", "Obfuscated packet",
                                 expert.group.SECURITY, expert.severity.NOTE),
    unknown_type = ProtoExpert.new("icebreaker.unknown_type", "Packet type outside the table",
                                   expert.group.PROTOCOL, expert.severity.WARN),
    version_mismatch = ProtoExpert.new("icebreaker.version_mismatch", "Version differs from the table's",
                                       expert.group.PROTOCOL, expert.severity.WARN),
    control = ProtoExpert.new("icebreaker.control", "UDT control packet",
                              expert.group.SEQUENCE, expert.severity.NOTE),
}
icebreaker.experts = { e.malformed, e.obfuscated, e.unknown_type, e.version_mismatch, e.control }

icebreaker.prefs.ports = Pref.range("UDP ports", DEFAULT_PORTS,
                                    "UDP ports decoded as Icebreaker/Overte ICE (ice-server ports)", 65535)
icebreaker.prefs.heuristic = Pref.bool("Try heuristic on other ports", true,
                                       "Decode Overte datagrams on any UDP port (domains and clients use ephemeral ports)")

---------------------------------------------------------------------------------------------------
-- A bounds-checked cursor. Reads past the end set err = "truncated" once and return nil; the first
-- error wins, as in ByteReader. With tree == nil it only validates, so a packet is parsed once
-- without a tree and only then again into the tree: a malformed payload never shows half its fields.

local Reader = {}
Reader.__index = Reader

local function new_reader(tvb, offset, tree)
    return setmetatable({ tvb = tvb, pos = offset, stop = tvb:len(), tree = tree, err = nil }, Reader)
end

function Reader:fail(err)
    if not self.err then self.err = err end
end

function Reader:take(n)
    if self.err then return nil end
    if self.pos + n > self.stop then
        self:fail("truncated")
        return nil
    end
    local range = self.tvb(self.pos, n)
    self.pos = self.pos + n
    return range
end

function Reader:remaining() return self.stop - self.pos end

function Reader:add(field, range, tree)
    local t = tree or self.tree
    if t and range then return t:add(field, range) end
end

function Reader:uuid(field)
    local range = self:take(16)
    self:add(field, range)
    return range
end

-- SockAddr: QHostAddress (protocol byte, then IPv4 / IPv6+scope / nothing) and a big-endian port.
function Reader:sockaddr(role, title)
    local sf = sockets[role]
    local start = self.pos
    local subtree = self.tree and self.tree:add(self.tvb(start, 1), title .. " socket")
    local fam = self:take(1)
    if not fam then return end
    local family = fam:uint()
    self:add(sf.family, fam, subtree)
    local host
    if family == 0 then
        local r = self:take(4)
        self:add(sf.ipv4, r, subtree)
        host = r and tostring(r:ipv4())
    elseif family == 1 then
        local r = self:take(16)
        self:add(sf.ipv6, r, subtree)
        host = r and tostring(r:ipv6())
        local len_range = self:take(4)
        if not len_range then return end
        local scope_bytes = len_range:uint()
        local length_item = self:add(sf.scope_length, len_range, subtree)
        if length_item and scope_bytes == NULL_LENGTH then length_item:append_text(" (no scope id)") end
        if scope_bytes ~= NULL_LENGTH then
            if scope_bytes > MAX_SCOPE_ID_BYTES or scope_bytes % 2 == 1 then
                self:fail(scope_bytes > self:remaining() and "truncated" or "bad_address")
                return
            end
            local s = self:take(scope_bytes)
            if s and subtree then
                subtree:add(sf.scope, s, s:ustring())
            end
            if s and scope_bytes > 0 then host = host .. "%" .. s:ustring() end
        end
        if host then host = "[" .. host .. "]" end
    elseif family == 2 then
        host = "any"
    elseif family == 255 then
        host = "null"
    else
        self:fail("bad_address")
        return
    end
    local port_range = self:take(2)
    if not port_range then return end
    self:add(sf.port, port_range, subtree)
    local text = host .. ":" .. port_range:uint()
    if subtree then
        subtree:add(sf.addr, self.tvb(start, self.pos - start), text):set_generated()
        subtree:set_len(self.pos - start)
        subtree:append_text(": " .. text)
    end
    return text
end

function Reader:finish()
    if not self.err and self.pos ~= self.stop then self:fail("trailing_bytes") end
    return self.err
end

---------------------------------------------------------------------------------------------------
-- Payload parsers, one per ICE type. Each reads through r (validating, or into r.tree) and returns
-- a short summary for the Info column.

local function guid_text(range)
    if not range then return "?" end
    local hex = range:bytes():tohex(true)
    return hex:sub(1, 8) .. "-" .. hex:sub(9, 12) .. "-" .. hex:sub(13, 16) .. "-" .. hex:sub(17, 20) .. "-" .. hex:sub(21)
end

local payloads = {}

payloads[38] = function(r) -- ICEServerHeartbeat: domain ID | public | local | QByteArray signature
    local start = r.pos
    local id = r:uuid(f.domain_id)
    local pub = r:sockaddr("public", "Public")
    r:sockaddr("local", "Local")
    if r.err then return end
    local signed_len = r.pos - start
    if r.tree then
        local item = r.tree:add(f.signed_data, r.tvb(start, signed_len))
        item:append_text(" (payload bytes 0.." .. signed_len .. ": domain ID and both sockets)")
        r.tree:add(f.signed_length, r.tvb(start, signed_len), signed_len):set_generated()
    end
    local len_range = r:take(4)
    if not len_range then return end
    local length = len_range:uint()
    local length_item = r:add(f.signature_length, len_range)
    if length_item and length == NULL_LENGTH then length_item:append_text(" (null signature)") end
    if length ~= NULL_LENGTH then
        if length > MAX_SIGNATURE_BYTES then
            r:fail("oversized")
            return
        end
        local sig = r:take(length)
        if sig and length > 0 then r:add(f.signature, sig) end
    end
    return "domain " .. guid_text(id) .. " public " .. tostring(pub)
end

payloads[23] = function(r) -- ICEServerQuery: client ID | public | local | domain ID
    local client = r:uuid(f.client_id)
    r:sockaddr("public", "Public")
    r:sockaddr("local", "Local")
    local domain = r:uuid(f.domain_id)
    return "client " .. guid_text(client) .. " wants domain " .. guid_text(domain)
end

payloads[22] = function(r) -- ICEServerPeerInformation: NetworkPeer (ID | public | local)
    local id = r:uuid(f.peer_id)
    local pub = r:sockaddr("public", "Public")
    local loc = r:sockaddr("local", "Local")
    return "peer " .. guid_text(id) .. " public " .. tostring(pub) .. " local " .. tostring(loc)
end

local function ping(r) -- ICEPing / ICEPingReply: 16 raw ID bytes | ping type byte
    local id = r:uuid(f.ping_id)
    local t = r:take(1)
    if not t then return end
    local value = t:uint()
    r:add(f.ping_type, t)
    if value > 3 then
        r:fail("bad_value")
        return
    end
    if r.tree then r.tree:add(f.ping_type_name, t, PING_TYPES[value]):set_generated() end
    return PING_TYPES[value] .. " from " .. guid_text(id)
end
payloads[39] = ping
payloads[40] = ping

local function empty() return "" end -- ACK and Denied carry nothing
payloads[60] = empty
payloads[63] = empty

---------------------------------------------------------------------------------------------------

-- XORs everything after the UDT header with the level's key, giving a new data source that keeps
-- the datagram's offsets (the header bytes are copied as they are).
local function deobfuscate(tvb, header_size, level)
    local key = OBFUSCATION_KEYS[level]
    local bytes = tvb:bytes()
    local plain = ByteArray.new()
    plain:set_size(bytes:len())
    for i = 0, bytes:len() - 1 do
        local b = bytes:get_index(i)
        if i >= header_size then b = bxor(b, key[(i - header_size) % 8 + 1]) end
        plain:set_index(i, b)
    end
    return plain:tvb("De-obfuscated datagram")
end

local function malformed(tree, pinfo, err, tvb, offset)
    tree:add(f.error, err):set_generated()
    tree:add_proto_expert_info(e.malformed, "Malformed: " .. ERROR_TEXT[err])
    if tvb and offset < tvb:len() then tree:add(f.payload, tvb(offset)) end
    pinfo.cols.info:append(" [Malformed: " .. ERROR_TEXT[err] .. "]")
end

local function dissect(tvb, pinfo, root)
    local length = tvb:len()
    pinfo.cols.protocol = "Icebreaker"
    local tree = root:add(icebreaker, tvb())
    pinfo.cols.info = "Icebreaker"

    if length > MAX_PACKET_SIZE then
        malformed(tree, pinfo, "oversized", tvb, 0)
        return length
    end
    if length < 4 then
        malformed(tree, pinfo, "truncated", tvb, 0)
        return length
    end

    -- UDT header
    local word = tvb(0, 4):le_uint()
    local udt = tree:add(tvb(0, 4), "UDT header")
    udt:add_le(f.udt_word, tvb(0, 4))
    udt:add_le(f.control, tvb(0, 4))
    if band(word, 0x80000000) ~= 0 then
        tree:add(f.error, "control_packet"):set_generated()
        tree:add_proto_expert_info(e.control, "UDT control packet (reliable-transfer machinery, not ICE)")
        if length > 4 then tree:add(f.payload, tvb(4)) end
        pinfo.cols.info = "UDT control packet"
        return length
    end
    udt:add_le(f.reliable, tvb(0, 4))
    udt:add_le(f.message, tvb(0, 4))
    udt:add_le(f.obfuscation, tvb(0, 4))
    udt:add_le(f.seq, tvb(0, 4))
    local header_size = 4
    if band(word, 0x20000000) ~= 0 then
        if length < 12 then
            malformed(tree, pinfo, "truncated", tvb, 4)
            return length
        end
        udt:add_le(f.msg_position, tvb(4, 4))
        udt:add_le(f.msg_number, tvb(4, 4))
        udt:add_le(f.msg_part, tvb(8, 4))
        header_size = 12
        udt:set_len(12)
    end

    local level = band(rshift(word, 27), 3)
    local plain = tvb
    if level ~= 0 then
        local key = OBFUSCATION_KEYS[level]
        if not key then
            tree:add_proto_expert_info(e.obfuscated, "Obfuscated at level " .. level .. " (key unknown)")
            tree:add(f.payload, tvb(header_size))
            pinfo.cols.info = "Obfuscated (level " .. level .. ")"
            return length
        end
        plain = deobfuscate(tvb, header_size, level)
        tree:add_proto_expert_info(e.obfuscated, "Obfuscated at level " .. level .. ", de-obfuscated")
    end

    -- NL header: type, version, then source ID for sourced types and a hash for sourced+verified ones
    if length < header_size + 2 then
        malformed(tree, pinfo, "truncated", plain, header_size)
        return length
    end
    local type_range = plain(header_size, 1)
    local version_range = plain(header_size + 1, 1)
    local type_number = type_range:uint()
    local version = version_range:uint()
    local info = PACKET_TYPES[type_number]
    local nl = tree:add(plain(header_size, 2), "NL header")
    nl:add(f.type, type_range)
    nl:add(f.version, version_range)
    local prefix = level ~= 0 and ("[obfuscated L" .. level .. "] ") or ""
    if not info then
        tree:add(f.error, "unknown_type"):set_generated()
        tree:add_proto_expert_info(e.unknown_type, "Packet type " .. type_number .. " is not in the table")
        if length > header_size + 2 then tree:add(f.payload, plain(header_size + 2)) end
        pinfo.cols.info = prefix .. "Unknown type " .. type_number .. " v" .. version
        return length
    end
    local name, table_version, sourced, verified = info[1], info[2], info[3], info[4]
    nl:add(f.type_name, type_range, name):set_generated()
    nl:add(f.expected_version, version_range, table_version):set_generated()
    local nl_size = 2 + (sourced and 2 or 0) + ((sourced and verified) and 16 or 0)
    nl:add(f.header_size, type_range, nl_size):set_generated()
    nl:append_text(": " .. name .. " v" .. version)
    tree:append_text(": " .. name)
    pinfo.cols.info = prefix .. name .. " v" .. version

    local offset = header_size + 2
    if sourced then
        if length < offset + (nl_size - 2) then
            malformed(tree, pinfo, "truncated", plain, offset)
            return length
        end
        nl:add_le(f.source_id, plain(offset, 2))
        if verified then nl:add(f.hmac, plain(offset + 2, 16)) end
        offset = header_size + nl_size
        nl:set_len(nl_size)
    end

    if version ~= table_version then
        tree:add(f.error, "version_mismatch"):set_generated()
        tree:add_proto_expert_info(e.version_mismatch,
            name .. " version " .. version .. ", the table says " .. table_version .. ": payload not decoded")
        pinfo.cols.info:append(" [version mismatch: expected v" .. table_version .. "]")
        if length > offset then tree:add(f.payload, plain(offset)) end
        return length
    end

    local parse = payloads[type_number]
    if not parse then
        -- A type of the table that ICE does not use: named, not decoded.
        if length > offset then tree:add(f.payload, plain(offset)) end
        return length
    end

    local check = new_reader(plain, offset, nil)
    parse(check)
    local err = check:finish()
    if err then
        malformed(tree, pinfo, err, plain, offset)
        return length
    end
    local body = tree:add(plain(offset), name .. " payload")
    if length == offset then body:append_text(" (empty)") end
    local summary = parse(new_reader(plain, offset, body))
    if summary and summary ~= "" then pinfo.cols.info:append(" " .. summary) end
    return length
end

---------------------------------------------------------------------------------------------------
-- STUN (RFC 5389: first two bits 00, magic cookie at offset 4) and TURN ChannelData share the ports;
-- Wireshark's own dissectors own them. ChannelData (RFC 8656) is a channel number 0x4000-0x4FFF and a
-- big-endian length of the data that follows (UDP needs no padding). An Overte packet whose first byte
-- (the low byte of its sequence number) falls in 0x40-0x4F has, for any sequence number below 2^16,
-- a zero there instead, so it never passes for ChannelData.

local stun_dissector = Dissector.get("stun-udp")
local turnchannel_dissector = Dissector.get("turnchannel")

local function looks_like_stun(tvb)
    return tvb:len() >= 20 and band(tvb(0, 1):uint(), 0xC0) == 0 and tvb(4, 4):uint() == 0x2112A442
end

local function looks_like_channel_data(tvb)
    if tvb:len() < 5 or band(tvb(0, 1):uint(), 0xF0) ~= 0x40 then return false end
    return tvb(2, 2):uint() == tvb:len() - 4
end

function icebreaker.dissector(tvb, pinfo, tree)
    if looks_like_stun(tvb) then
        return stun_dissector:call(tvb, pinfo, tree)
    end
    if looks_like_channel_data(tvb) then
        return turnchannel_dissector:call(tvb, pinfo, tree)
    end
    return dissect(tvb, pinfo, tree)
end

-- On other ports claim only datagrams that are plainly Overte: a data packet of a known type at its
-- exact version, within the size limit, and not STUN/TURN.
local function heuristic(tvb, pinfo, tree)
    if not icebreaker.prefs.heuristic then return false end
    local length = tvb:len()
    if length < 6 or length > MAX_PACKET_SIZE or looks_like_stun(tvb) or looks_like_channel_data(tvb) then
        return false
    end
    local word = tvb(0, 4):le_uint()
    if band(word, 0x80000000) ~= 0 then return false end
    local header_size = band(word, 0x20000000) ~= 0 and 12 or 4
    if length < header_size + 2 then return false end
    local level = band(rshift(word, 27), 3)
    local type_number = tvb(header_size, 1):uint()
    local version = tvb(header_size + 1, 1):uint()
    if level ~= 0 then
        local key = OBFUSCATION_KEYS[level]
        type_number = bxor(type_number, key[1])
        version = bxor(version, key[2])
    end
    local info = PACKET_TYPES[type_number]
    if not info or info[2] ~= version then return false end
    dissect(tvb, pinfo, tree)
    return true
end
icebreaker:register_heuristic("udp", heuristic)

local udp_port_table = DissectorTable.get("udp.port")
local registered_ports = nil

local function register_ports()
    if registered_ports then udp_port_table:remove(registered_ports, icebreaker) end
    registered_ports = tostring(icebreaker.prefs.ports)
    if registered_ports ~= "" then udp_port_table:add(registered_ports, icebreaker) end
end

function icebreaker.prefs_changed()
    if tostring(icebreaker.prefs.ports) ~= registered_ports then register_ports() end
end

register_ports()
udp_port_table:add_for_decode_as(icebreaker)
