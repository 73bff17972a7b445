-- SPDX-License-Identifier: BSD-2-Clause
--
-- tcpcrypt.lua: a Wireshark dissector for the wire protocol of tcpcryptd
-- (doc/protocol.md, version 2).
--
--   tshark -X lua_script:contrib/wireshark/tcpcrypt.lua -r capture.pcap -V
--
-- It shows
--   * the TCP-ENO option (kind 69, doc/protocol.md sections 3 and 13): the
--     global suboption and its b bit, each TEP suboption, and for our TEP
--     (0xa0) the version tag 74 32 and, in the resumption forms, R and n;
--   * the MAC option (kind 253, experiment identifier 0x7463,
--     doc/protocol.md section 6.3): the 12-byte tag;
--   * Init1 and Init2 at the start of the byte streams
--     (doc/protocol.md section 4): magic, length, suite list or chosen
--     suite, nonce and public key;
-- with expert info for malformed ones.  Both options are dissected through
-- Wireshark's "tcp.option" dissector table; kind 253 options of other
-- experiments are handed back to Wireshark's own dissector.  Init1/Init2 are
-- found by a postdissector that looks at the first bytes of each TCP
-- payload.  Nothing is decrypted: the payload after the key exchange is
-- ciphertext (tcpcryptd's --keylog and doc/protocol.md section 10 are the
-- way to decrypt a capture).
--
-- Field names: tcpcrypt.eno.*, tcpcrypt.mac.*, tcpcrypt.init1.*,
-- tcpcrypt.init2.*; the filter "tcpcrypt" matches every packet that carries
-- any of them.

local ENO_KIND = 69
local EXP_KIND = 253
local MAC_EXID = 0x7463
local MAC_LEN = 16
local OUR_TEP = 0x20
local INIT1_MAGIC = 0x15101a0e
local INIT2_MAGIC = 0x097105e0
local INIT2_LEN = 74

local tcpcrypt = Proto("tcpcrypt", "tcpcrypt (TCP-ENO TEP 0x20, version 2)")

local suites = { [0x7402] = "chacha20", [0x7403] = "aes128" }
local tep_names = { [0x20] = "tcpcrypt experimental TEP (ours when tagged 74 32)",
                    [0x21] = "TCP_CRYPT_AES128_GCM_TAG (RFC 8548)",
                    [0x22] = "TCP_CRYPT_AES256_GCM_TAG (RFC 8548)",
                    [0x23] = "TCP_CRYPT_CHACHA20_POLY1305 (RFC 8548)",
                    [0x24] = "TCP_CRYPT_AES128_GCM_SIV (RFC 8548)" }

local f = {
	eno = ProtoField.bytes("tcpcrypt.eno", "TCP-ENO option"),
	eno_len = ProtoField.uint8("tcpcrypt.eno.len", "Length", base.DEC),
	eno_form = ProtoField.string("tcpcrypt.eno.form", "Form"),
	eno_global = ProtoField.uint8("tcpcrypt.eno.global", "Global suboption", base.HEX),
	eno_b = ProtoField.bool("tcpcrypt.eno.b", "b (role B, passive opener)", 8, nil, 0x01),
	eno_a = ProtoField.bool("tcpcrypt.eno.a", "a (application aware)", 8, nil, 0x02),
	eno_sublen = ProtoField.uint8("tcpcrypt.eno.sublen", "Suboption data length", base.DEC, nil, 0x1f),
	eno_tep = ProtoField.uint8("tcpcrypt.eno.tep", "TEP suboption", base.HEX),
	eno_tep_v = ProtoField.bool("tcpcrypt.eno.tep.v", "v (data follows)", 8, nil, 0x80),
	eno_tep_id = ProtoField.uint8("tcpcrypt.eno.tep.id", "TEP identifier", base.HEX, tep_names, 0x7f),
	eno_data = ProtoField.bytes("tcpcrypt.eno.data", "TEP data"),
	eno_version = ProtoField.bytes("tcpcrypt.eno.version", "Version tag"),
	eno_r = ProtoField.bytes("tcpcrypt.eno.r", "R (resumption identifier)"),
	eno_n = ProtoField.bytes("tcpcrypt.eno.n", "n (resumption nonce)"),

	mac = ProtoField.bytes("tcpcrypt.mac", "tcpcrypt MAC option"),
	mac_len = ProtoField.uint8("tcpcrypt.mac.len", "Length", base.DEC),
	mac_exid = ProtoField.uint16("tcpcrypt.mac.exid", "Experiment identifier", base.HEX),
	mac_tag = ProtoField.bytes("tcpcrypt.mac.tag", "Tag"),

	init1 = ProtoField.bytes("tcpcrypt.init1", "Init1"),
	init1_magic = ProtoField.uint32("tcpcrypt.init1.magic", "Magic", base.HEX),
	init1_len = ProtoField.uint32("tcpcrypt.init1.len", "Length", base.DEC),
	init1_nciphers = ProtoField.uint8("tcpcrypt.init1.nciphers", "Number of suites", base.DEC),
	init1_suite = ProtoField.uint16("tcpcrypt.init1.suite", "Suite", base.HEX, suites),
	init1_nonce = ProtoField.bytes("tcpcrypt.init1.nonce", "N_A (nonce)"),
	init1_pubkey = ProtoField.bytes("tcpcrypt.init1.pubkey", "Pub_A (X25519 public key)"),

	init2 = ProtoField.bytes("tcpcrypt.init2", "Init2"),
	init2_magic = ProtoField.uint32("tcpcrypt.init2.magic", "Magic", base.HEX),
	init2_len = ProtoField.uint32("tcpcrypt.init2.len", "Length", base.DEC),
	init2_suite = ProtoField.uint16("tcpcrypt.init2.suite", "Chosen suite", base.HEX, suites),
	init2_nonce = ProtoField.bytes("tcpcrypt.init2.nonce", "N_B (nonce)"),
	init2_pubkey = ProtoField.bytes("tcpcrypt.init2.pubkey", "Pub_B (X25519 public key)"),
}
local fl = {}
for _, v in pairs(f) do fl[#fl + 1] = v end
tcpcrypt.fields = fl

local e = {
	eno_malformed = ProtoExpert.new("tcpcrypt.eno.malformed", "Malformed TCP-ENO option",
		expert.group.MALFORMED, expert.severity.ERROR),
	eno_version = ProtoExpert.new("tcpcrypt.eno.unknown_version", "TEP 0x20 with an unknown version tag",
		expert.group.PROTOCOL, expert.severity.WARN),
	eno_data_len = ProtoExpert.new("tcpcrypt.eno.bad_data_len", "TEP 0x20 data of a wrong length",
		expert.group.MALFORMED, expert.severity.WARN),
	mac_len = ProtoExpert.new("tcpcrypt.mac.bad_len", "tcpcrypt MAC option of a wrong length",
		expert.group.MALFORMED, expert.severity.ERROR),
	init_truncated = ProtoExpert.new("tcpcrypt.init.truncated", "Truncated Init message",
		expert.group.MALFORMED, expert.severity.ERROR),
	init_len = ProtoExpert.new("tcpcrypt.init.bad_len", "Init message length field is wrong",
		expert.group.MALFORMED, expert.severity.ERROR),
	init_suite = ProtoExpert.new("tcpcrypt.init.unknown_suite", "Unknown suite",
		expert.group.PROTOCOL, expert.severity.WARN),
}
tcpcrypt.experts = { e.eno_malformed, e.eno_version, e.eno_data_len, e.mac_len,
                     e.init_truncated, e.init_len, e.init_suite }

-- ---------------------------------------------------------------------------
-- TCP-ENO (kind 69)
-- Suboption bits are taken apart with plain arithmetic, not a bit library,
-- so that the code runs on the Lua of older and newer Wireshark releases.

-- One TEP suboption: sub is its byte at tvb offset pos, its data runs from
-- dpos for dlen bytes.  b is the b bit of the option's global suboption.
-- Returns a short description for the option's summary.
local function eno_tep(tvb, tree, pos, dpos, dlen, b)
	local sub = tvb(pos, 1):uint()
	local t = tree:add(f.eno_tep, tvb(pos, 1 + (dlen > 0 and (dpos - pos - 1 + dlen) or 0)), sub)
	t:add(f.eno_tep_v, tvb(pos, 1))
	t:add(f.eno_tep_id, tvb(pos, 1))
	if dlen > 0 then
		t:add(f.eno_data, tvb(dpos, dlen))
	end
	if sub % 0x80 ~= OUR_TEP then
		t:append_text(" (another TEP)")
		return string.format("TEP 0x%02x", sub % 0x80)
	end
	if dlen < 2 then
		t:add_proto_expert_info(e.eno_version, "TEP 0x20 without a version tag (doc/protocol.md 3.1 wants 74 32)")
		return "TEP 0x20 without version tag"
	end
	local tag = tvb(dpos, 2)
	local vi = t:add(f.eno_version, tag)
	if tag:uint() ~= 0x7432 then
		local what = tag:uint() == 0x7431 and " (version 1)" or ""
		vi:add_proto_expert_info(e.eno_version,
			string.format("TEP 0x20 with version tag %s%s, not 74 32", tostring(tag:bytes()), what))
		return "TEP 0x20, unknown version"
	end
	if dlen == 2 then
		t:append_text(" (tcpcrypt v2, fresh key exchange)")
		return "fresh"
	end
	if dlen == 15 then
		local r = t:add(f.eno_r, tvb(dpos + 2, 9))
		r:append_text(b and " (R_B)" or " (R_A)")
		t:add(f.eno_n, tvb(dpos + 11, 4))
		t:append_text(b and " (tcpcrypt v2, resumption accepted)" or " (tcpcrypt v2, resumption offer)")
		return b and "resumption accepted" or "resumption offer"
	end
	t:add_proto_expert_info(e.eno_data_len,
		string.format("TEP 0x20 data is %d bytes; version 2 has 2 (fresh) or 15 (resumption)", dlen))
	return "TEP 0x20, wrong data length"
end

local function dissect_eno(tvb, pinfo, tree)
	local olen = tvb:len()
	local t = tree:add(f.eno, tvb())
	t:set_text("TCP-ENO (tcpcrypt)")
	t:add(tcpcrypt, tvb()):set_generated()
	t:add(f.eno_len, tvb(1, 1))
	if olen == 2 then
		t:add(f.eno_form, "non-SYN"):set_generated()
		t:append_text(": non-SYN form")
		return olen
	end
	local b = false
	local explicit = false
	local descr = {}
	local pos = 2
	local malformed = nil
	while pos < olen do
		local sub = tvb(pos, 1):uint()
		local glt = sub % 0x80
		if glt < OUR_TEP and sub < 0x80 then
			local g = t:add(f.eno_global, tvb(pos, 1))
			if pos ~= 2 then
				malformed = "global suboption not in the first position"
				g:add_proto_expert_info(e.eno_malformed, "Malformed TCP-ENO option: " .. malformed)
				break
			end
			g:add(f.eno_b, tvb(pos, 1))
			g:add(f.eno_a, tvb(pos, 1))
			explicit = true
			b = sub % 2 == 1
			pos = pos + 1
		elseif glt < OUR_TEP then
			-- a length byte: n data bytes follow the TEP suboption after it
			local n = sub % 0x20
			local li = t:add(f.eno_sublen, tvb(pos, 1))
			if olen - pos < 2 then
				malformed = "length byte at the end of the option"
			else
				local tep = tvb(pos + 1, 1):uint()
				if tep % 0x80 < OUR_TEP or tep < 0x80 then
					malformed = "length byte not followed by a TEP suboption with v = 1"
				elseif n > olen - pos - 2 then
					malformed = string.format("length byte says %d data bytes, %d are left", n, olen - pos - 2)
				end
			end
			if malformed then
				li:add_proto_expert_info(e.eno_malformed, "Malformed TCP-ENO option: " .. malformed)
				break
			end
			descr[#descr + 1] = eno_tep(tvb, t, pos + 1, pos + 2, n, b)
			pos = pos + 2 + n
		elseif sub < 0x80 then
			descr[#descr + 1] = eno_tep(tvb, t, pos, pos + 1, 0, b)
			pos = pos + 1
		else
			descr[#descr + 1] = eno_tep(tvb, t, pos, pos + 1, olen - pos - 1, b)
			pos = olen
		end
	end
	if not explicit then
		-- RFC 8547: without a global suboption the implicit 0x00 applies
		t:add(f.eno_b, 0):set_generated():append_text(" (implicit global suboption 0x00)")
	end
	local form
	if malformed then
		form = "malformed"
	elseif #descr == 0 then
		form = "vacuous"
	else
		form = descr[#descr]
	end
	t:add(f.eno_form, form):set_generated()
	t:append_text(string.format(": %s, b=%d", form, b and 1 or 0))
	return olen
end

-- ---------------------------------------------------------------------------
-- The MAC option (kind 253, ExID 0x7463)

local opt_table = DissectorTable.get("tcp.option")
local prev_exp = opt_table:get_dissector(EXP_KIND)

local function dissect_mac(tvb, pinfo, tree)
	local olen = tvb:len()
	if olen < 4 or tvb(2, 2):uint() ~= MAC_EXID then
		if prev_exp then
			return prev_exp:call(tvb, pinfo, tree)
		end
		return 0
	end
	local t = tree:add(f.mac, tvb())
	t:set_text("tcpcrypt MAC")
	t:add(tcpcrypt, tvb()):set_generated()
	t:add(f.mac_len, tvb(1, 1))
	t:add(f.mac_exid, tvb(2, 2))
	if olen > 4 then
		local tag = tvb(4, olen - 4)
		t:add(f.mac_tag, tag)
		t:append_text(": " .. tostring(tag:bytes()))
	end
	if olen ~= MAC_LEN then
		t:add_proto_expert_info(e.mac_len,
			string.format("tcpcrypt MAC option is %d bytes, not %d (4 header bytes and a 12-byte tag)", olen, MAC_LEN))
	end
	return olen
end

-- The options' own protocols: their names are what the TCP dissector lists
-- in the "Options:" summary.
local eno_opt = Proto("tcp-eno", "TCP-ENO option (tcpcrypt)")
function eno_opt.dissector(tvb, pinfo, tree) return dissect_eno(tvb, pinfo, tree) end
local mac_opt = Proto("tcpcrypt-mac", "tcpcrypt MAC option")
function mac_opt.dissector(tvb, pinfo, tree) return dissect_mac(tvb, pinfo, tree) end
opt_table:add(ENO_KIND, eno_opt)
opt_table:add(EXP_KIND, mac_opt)

-- ---------------------------------------------------------------------------
-- Init1 and Init2 (doc/protocol.md section 4)

local tcp_payload = Field.new("tcp.payload")

-- Adds field fld over range [off, off+len) of r if it is all there; adds
-- what is there otherwise and returns false.
local function add_part(t, fld, r, off, len)
	local have = r:len() - off
	if have <= 0 then return false end
	if have < len then
		t:add(fld, r(off, have)):append_text(string.format(" [truncated: %d of %d bytes]", have, len))
		return false
	end
	t:add(fld, r(off, len))
	return true
end

-- A suite field: added, flagged when unknown; returns its name.
local function add_suite(t, fld, r)
	local s = r:uint()
	local it = t:add(fld, r)
	if not suites[s] then
		it:add_proto_expert_info(e.init_suite, string.format("Unknown suite 0x%04x", s))
	end
	return suites[s] or string.format("0x%04x", s)
end

-- What Init1 and Init2 begin with: the message's tree, its magic number
-- and its length field.  Returns the tree, whether the length field is
-- whole, and its value (nil when it is not).
local function init_head(r, tree, fld, name, magic_fld, len_fld)
	local t = tree:add(fld, r)
	t:set_text("tcpcrypt " .. name)
	t:add(magic_fld, r(0, 4))
	local ok = add_part(t, len_fld, r, 4, 4)
	return t, ok, ok and r(4, 4):uint() or nil
end

local function dissect_init1(r, pinfo, tree)
	local t, ok, want = init_head(r, tree, f.init1, "Init1", f.init1_magic, f.init1_len)
	if ok then ok = add_part(t, f.init1_nciphers, r, 8, 1) end
	local n = 0
	if ok then
		n = r(8, 1):uint()
		local names = {}
		for i = 0, n - 1 do
			if r:len() < 11 + 2 * i then
				add_part(t, f.init1_suite, r, 9 + 2 * i, 2)
				ok = false
				break
			end
			names[#names + 1] = add_suite(t, f.init1_suite, r(9 + 2 * i, 2))
		end
		t:append_text(": suites " .. table.concat(names, ","))
	end
	if ok then ok = add_part(t, f.init1_nonce, r, 9 + 2 * n, 32) end
	if ok then ok = add_part(t, f.init1_pubkey, r, 41 + 2 * n, 32) end
	if want and r:len() >= 9 and want ~= 73 + 2 * n then
		t:add_proto_expert_info(e.init_len, string.format(
			"Init1 length field is %d; %d suites make it %d", want, n, 73 + 2 * n))
	end
	if not ok then
		t:add_proto_expert_info(e.init_truncated, string.format(
			"Init1 truncated: %d bytes in this segment, %s expected", r:len(),
			n > 0 and tostring(73 + 2 * n) or "at least 75"))
	end
	pinfo.cols.info:append(" [tcpcrypt Init1]")
end

local function dissect_init2(r, pinfo, tree)
	local t, ok, want = init_head(r, tree, f.init2, "Init2", f.init2_magic, f.init2_len)
	if ok and r:len() >= 10 then
		t:append_text(": suite " .. add_suite(t, f.init2_suite, r(8, 2)))
	elseif ok then
		add_part(t, f.init2_suite, r, 8, 2)
		ok = false
	end
	if ok then ok = add_part(t, f.init2_nonce, r, 10, 32) end
	if ok then ok = add_part(t, f.init2_pubkey, r, 42, 32) end
	if want and want ~= INIT2_LEN then
		t:add_proto_expert_info(e.init_len, string.format("Init2 length field is %d, not %d", want, INIT2_LEN))
	end
	if not ok then
		t:add_proto_expert_info(e.init_truncated, string.format(
			"Init2 truncated: %d bytes in this segment, %d expected", r:len(), INIT2_LEN))
	end
	pinfo.cols.info:append(" [tcpcrypt Init2]")
end

-- The postdissector: an Init message is the first thing in its direction's
-- stream and is sent whole in one segment (doc/protocol.md section 4), so
-- a payload that starts with a magic number is taken for one.
function tcpcrypt.dissector(tvb, pinfo, tree)
	local pls = { tcp_payload() }
	local pl = pls[#pls]
	if not pl then return end
	local r = pl.range
	if r:len() < 4 then return end
	local magic = r(0, 4):uint()
	if magic == INIT1_MAGIC then
		local t = tree:add(tcpcrypt, r)
		dissect_init1(r, pinfo, t)
	elseif magic == INIT2_MAGIC then
		local t = tree:add(tcpcrypt, r)
		dissect_init2(r, pinfo, t)
	end
end

register_postdissector(tcpcrypt)
