// Conformance: the console ring (io/console.h) and the xenstore wire
// protocol and ring (io/xs_wire.h).
// Ours before any of Xen's headers, as in xen_public.hpp.
#include <xen/abi/console_ring.hpp>
#include <xen/abi/xenstore.hpp>

#include "xen_public.hpp"

#include <xen/io/console.h>
#include <xen/io/xs_wire.h>

#include "check.hpp"

ABI_AREA_BEGIN(rings)

ABI_TYPE(xa::xencons_interface, xencons_interface);
ABI_SAME_FIELD(xa::xencons_interface, xencons_interface, in);
ABI_SAME_FIELD(xa::xencons_interface, xencons_interface, out);
ABI_SAME_FIELD(xa::xencons_interface, xencons_interface, in_cons);
ABI_SAME_FIELD(xa::xencons_interface, xencons_interface, in_prod);
ABI_SAME_FIELD(xa::xencons_interface, xencons_interface, out_cons);
ABI_SAME_FIELD(xa::xencons_interface, xencons_interface, out_prod);
ABI_ASSERT(sizeof(xa::xencons_ring_idx) == sizeof(XENCONS_RING_IDX), "XENCONS_RING_IDX");

ABI_CONST(xa::xsd_sockmsg_type::control, XS_CONTROL);
ABI_CONST(xa::xsd_sockmsg_type::directory, XS_DIRECTORY);
ABI_CONST(xa::xsd_sockmsg_type::read, XS_READ);
ABI_CONST(xa::xsd_sockmsg_type::get_perms, XS_GET_PERMS);
ABI_CONST(xa::xsd_sockmsg_type::watch, XS_WATCH);
ABI_CONST(xa::xsd_sockmsg_type::unwatch, XS_UNWATCH);
ABI_CONST(xa::xsd_sockmsg_type::transaction_start, XS_TRANSACTION_START);
ABI_CONST(xa::xsd_sockmsg_type::transaction_end, XS_TRANSACTION_END);
ABI_CONST(xa::xsd_sockmsg_type::introduce, XS_INTRODUCE);
ABI_CONST(xa::xsd_sockmsg_type::release, XS_RELEASE);
ABI_CONST(xa::xsd_sockmsg_type::get_domain_path, XS_GET_DOMAIN_PATH);
ABI_CONST(xa::xsd_sockmsg_type::write, XS_WRITE);
ABI_CONST(xa::xsd_sockmsg_type::mkdir, XS_MKDIR);
ABI_CONST(xa::xsd_sockmsg_type::rm, XS_RM);
ABI_CONST(xa::xsd_sockmsg_type::set_perms, XS_SET_PERMS);
ABI_CONST(xa::xsd_sockmsg_type::watch_event, XS_WATCH_EVENT);
ABI_CONST(xa::xsd_sockmsg_type::error, XS_ERROR);
ABI_CONST(xa::xsd_sockmsg_type::is_domain_introduced, XS_IS_DOMAIN_INTRODUCED);
ABI_CONST(xa::xsd_sockmsg_type::resume, XS_RESUME);
ABI_CONST(xa::xsd_sockmsg_type::set_target, XS_SET_TARGET);
ABI_CONST(xa::xsd_sockmsg_type::reset_watches, XS_RESET_WATCHES);
ABI_CONST(xa::xsd_sockmsg_type::directory_part, XS_DIRECTORY_PART);

ABI_TYPE(xa::xsd_sockmsg, xsd_sockmsg);
ABI_SAME_FIELD(xa::xsd_sockmsg, xsd_sockmsg, type);
ABI_SAME_FIELD(xa::xsd_sockmsg, xsd_sockmsg, req_id);
ABI_SAME_FIELD(xa::xsd_sockmsg, xsd_sockmsg, tx_id);
ABI_SAME_FIELD(xa::xsd_sockmsg, xsd_sockmsg, len);

ABI_CONST(xa::xenstore_ring_size, XENSTORE_RING_SIZE);
ABI_CONST(xa::xenstore_payload_max, XENSTORE_PAYLOAD_MAX);
ABI_ASSERT(sizeof(xa::xenstore_ring_idx) == sizeof(XENSTORE_RING_IDX), "XENSTORE_RING_IDX");

ABI_TYPE(xa::xenstore_domain_interface, xenstore_domain_interface);
ABI_SAME_FIELD(xa::xenstore_domain_interface, xenstore_domain_interface, req);
ABI_SAME_FIELD(xa::xenstore_domain_interface, xenstore_domain_interface, rsp);
ABI_SAME_FIELD(xa::xenstore_domain_interface, xenstore_domain_interface, req_cons);
ABI_SAME_FIELD(xa::xenstore_domain_interface, xenstore_domain_interface, req_prod);
ABI_SAME_FIELD(xa::xenstore_domain_interface, xenstore_domain_interface, rsp_cons);
ABI_SAME_FIELD(xa::xenstore_domain_interface, xenstore_domain_interface, rsp_prod);
ABI_SAME_FIELD(xa::xenstore_domain_interface, xenstore_domain_interface, server_features);
ABI_SAME_FIELD(xa::xenstore_domain_interface, xenstore_domain_interface, connection);
ABI_SAME_FIELD(xa::xenstore_domain_interface, xenstore_domain_interface, error);

ABI_AREA_END(rings)
