//! The configure level (`crm(live)configure# `): crm configure commands on the staged CIB.

use tandem_cib::crm::{self, Command, Statement};

use super::Shell;
use super::levels::CommandHelp;

pub fn dispatch(shell: &mut Shell<'_>, st: &Statement) {
    let word = st.words[0].text.to_ascii_lowercase();
    if word == "refresh" {
        shell.staged = None;
        shell.enter("configure");
        return;
    }
    let cmd = match crm::parse_statement(st) {
        Ok(mut c) => {
            if let Command::Define(o) = &mut c.value {
                crm::attach_comments(o, &st.comments);
            }
            c
        }
        Err(e) => {
            let msg = shell.located(&e);
            return shell.error(msg);
        }
    };
    if let Command::Commit { force } = cmd.value {
        shell.commit(force);
        return;
    }
    let origin = if shell.origin.is_empty() {
        "input".to_string()
    } else {
        shell.origin.clone()
    };
    let Some(staged) = shell.staged.as_mut() else {
        return shell.error("the configuration is not loaded; `cd ..` and `configure` again");
    };
    match staged.execute(&cmd, &origin, &mut std::io::stdout()) {
        Ok(Some(code)) => {
            if code != std::process::ExitCode::SUCCESS {
                shell.fail(1);
            }
        }
        Ok(None) => {}
        Err(e) => {
            let msg = format!("{e:#}");
            let msg = if shell.origin.is_empty() {
                msg.strip_prefix("input:").unwrap_or(&msg).to_string()
            } else {
                msg
            };
            shell.error(msg)
        }
    }
}

/// The configure level's commands and their help.
pub const HELP: &[CommandHelp] = &[
    CommandHelp {
        name: "ra",
        usage: "ra [COMMAND ...]",
        text: "Enter the resource agent level from here (`crm(live)configure ra# `): \
               classes, list, info, providers. `cd ..` comes back to configure.",
    },
    CommandHelp {
        name: "primitive",
        usage: "primitive ID [class:[provider:]]TYPE|@TEMPLATE [description=TEXT] \
                [params NAME=VALUE...] [meta NAME=VALUE...] [utilization NAME=VALUE...] \
                [op ACTION NAME=VALUE... [op_params ...] [op_meta ...]]...",
        text: "Define a resource. TYPE alone and ocf:TYPE mean ocf:heartbeat:TYPE \
               (`IPaddr2`); other classes are lsb, systemd, service, stonith. Pairs right \
               after the type are params. An op without interval= gets interval=0.\n\n\
               Example: primitive vip IPaddr2 params ip=10.0.0.100 cidr_netmask=24 op monitor interval=30s",
    },
    CommandHelp {
        name: "group",
        usage: "group ID RESOURCE... [description=TEXT] [meta NAME=VALUE...] [params ...]",
        text: "Put existing primitives into a group: they run on one node and start in \
               the order listed.\n\nExample: group web vip nginx",
    },
    CommandHelp {
        name: "clone",
        usage: "clone ID RESOURCE [description=TEXT] [meta NAME=VALUE...] [params ...]",
        text: "Run an existing primitive or group on several nodes at once (meta \
               clone-max, clone-node-max, interleave, promotable=true ...).\n\nExample: clone Nginx-clone Nginx",
    },
    CommandHelp {
        name: "ms",
        usage: "ms ID RESOURCE [meta NAME=VALUE...]",
        text: "A promotable clone (written as a clone with promotable=true, Pacemaker 2's \
               form of the old master/slave resource).",
    },
    CommandHelp {
        name: "rsc_template",
        usage: "rsc_template ID [class:[provider:]]TYPE [params ...] [meta ...] [op ...]",
        text: "A template primitives can be built from with `primitive ID @TEMPLATE`.",
    },
    CommandHelp {
        name: "location",
        usage: "location ID RESOURCE|/REGEX/|{ SET } [role=ROLE] [resource-discovery=X] \
                (SCORE: NODE | rule [$role=ROLE] [SCORE:] EXPRESSION...)",
        text: "Where a resource prefers (positive score) or must not (-inf) run. \
               Expressions: ATTR [TYPE:]OP VALUE (OP lt gt lte gte eq ne), defined ATTR, \
               not_defined ATTR, date lt|gt DATE, date in start=DATE end=DATE|DURATION, \
               date spec hours=9-17 weekdays=1-5 ..., joined by and/or.\n\n\
               Examples: location prefer-n1 vip 100: node1; location no-n3 vip rule -inf: #uname eq node3",
    },
    CommandHelp {
        name: "colocation",
        usage: "colocation ID SCORE: RESOURCE[:ROLE] WITH-RESOURCE[:ROLE] \
                [node-attribute=ATTR] | colocation ID SCORE: SETS...",
        text: "Keep resources together (inf:) or apart (-inf:). Sets: ( a b ) unordered, \
               [ a b ] some members enough; roles Started, Promoted, Unpromoted.\n\n\
               Example: colocation FloatIP-Nginx inf: FloatIP Nginx-clone",
    },
    CommandHelp {
        name: "order",
        usage: "order ID [Mandatory:|Optional:|Serialize:|SCORE:] FIRST[:ACTION] \
                THEN[:ACTION] [symmetrical=BOOL] | order ID KIND: SETS...",
        text: "Start (or promote, demote, stop) resources in order.\n\n\
               Example: order vip-before-web Mandatory: vip web:start",
    },
    CommandHelp {
        name: "bundle",
        usage: "bundle ID docker|podman|rkt NAME=VALUE... [network NAME=VALUE... [port-mapping \
                NAME=VALUE...]...] [storage [storage-mapping NAME=VALUE...]...] \
                [primitive RESOURCE] [meta NAME=VALUE...]",
        text: "A bundle: containers from one image, with an existing primitive run inside \
               them.\n\nExample: bundle httpd docker image=pcmk:httpd replicas=3 network \
               ip-range-start=10.10.10.123 port-mapping port=80 primitive httpd-apache",
    },
    CommandHelp {
        name: "alert",
        usage: "alert ID PATH [attributes ...] [meta ...] [select nodes|fencing|resources|\
                attributes { NAME... }...] [to [{] RECIPIENT [attributes ...] [meta ...] [}]]...",
        text: "Run PATH on cluster events, for each recipient. Braces around a recipient \
               separate its attributes from the alert's.\n\nExample: alert mail \
               /usr/local/bin/alert_smtp.sh select fencing nodes to admin@example.com",
    },
    CommandHelp {
        name: "role",
        usage: "role ID [description=TEXT] (read|write|deny) SPEC... ...",
        text: "An ACL role: rights on parts of the CIB. SPEC is xpath:XPATH, ref:ID, type:TAG \
               [attr:NAME], or a shortcut: meta:RSC[:ATTR], params:RSC[:ATTR], \
               utilization:RSC, location:RSC, property[:ATTR], node[:NODE], nodeattr[:ATTR], \
               nodeutil[:NODE], status, cib.\n\nExample: role app1_admin write \
               meta:app1:target-role read ref:app1",
    },
    CommandHelp {
        name: "acl_target",
        usage: "acl_target USER ROLE...",
        text: "Give a user ACL roles (also `user USER role:ROLE...`).",
    },
    CommandHelp {
        name: "acl_group",
        usage: "acl_group GROUP ROLE...",
        text: "Give a system group ACL roles.",
    },
    CommandHelp {
        name: "xml",
        usage: "xml <ELEMENT ...>",
        text: "Any configuration object in XML, kept exactly (`show` uses this form for what \
               the crm syntax cannot express).",
    },
    CommandHelp {
        name: "rsc_ticket",
        usage: "rsc_ticket ID TICKET: RESOURCE[:ROLE]... [loss-policy=stop|demote|fence|freeze]",
        text: "Make resources depend on a ticket.",
    },
    CommandHelp {
        name: "property",
        usage: "property [SET-ID:] NAME=VALUE...",
        text: "Set cluster options (in cib-bootstrap-options unless a set is named).\n\n\
               Example: property stonith-enabled=false no-quorum-policy=ignore",
    },
    CommandHelp {
        name: "rsc_defaults",
        usage: "rsc_defaults [SET-ID:] NAME=VALUE...",
        text: "Set defaults for resource meta-attributes (resource-stickiness=100 ...).",
    },
    CommandHelp {
        name: "op_defaults",
        usage: "op_defaults [SET-ID:] NAME=VALUE...",
        text: "Set defaults for operations (timeout=60s ...).",
    },
    CommandHelp {
        name: "node",
        usage: "node [ID:] NAME[:TYPE] [attributes NAME=VALUE...] [utilization NAME=VALUE...]",
        text: "Define a node and its attributes.\n\nExample: node 1: node1 attributes standby=off",
    },
    CommandHelp {
        name: "fencing_topology",
        usage: "fencing_topology [TARGET: | pattern:REGEX | attr:NAME=VALUE] DEVICES...",
        text: "Fencing levels: for each target, the devices to try in turn (a,b in one \
               level means both). Without targets the levels apply to every node.",
    },
    CommandHelp {
        name: "tag",
        usage: "tag ID RESOURCE...",
        text: "Name a set of resources.",
    },
    CommandHelp {
        name: "delete",
        usage: "delete ID...",
        text: "Delete objects. Constraints left without their resource go with it; a \
               deleted group or clone leaves its members in place.",
    },
    CommandHelp {
        name: "rename",
        usage: "rename OLD-ID NEW-ID",
        text: "Rename an object; references to it follow.",
    },
    CommandHelp {
        name: "show",
        usage: "show [xml] [ID...]",
        text: "Print the (staged) configuration, or the named objects, as crm commands \
               or, with xml, as XML.",
    },
    CommandHelp {
        name: "edit",
        usage: "edit [ID...]",
        text: "Edit the configuration (or the named objects) as crm text in $EDITOR; \
               what you save replaces it, objects you remove are deleted. Mistakes are shown \
               and you may edit again.",
    },
    CommandHelp {
        name: "verify",
        usage: "verify",
        text: "Check the staged configuration as `tandem verify` does.",
    },
    CommandHelp {
        name: "commit",
        usage: "commit [force]",
        text: "Write the staged changes to the CIB. Refused while verify finds errors \
               (force writes anyway) or when the CIB changed since it was read.",
    },
    CommandHelp {
        name: "load",
        usage: "load [xml] update|replace FILE",
        text: "Read crm commands (or, with xml, a CIB) from FILE: update replaces the \
               objects it defines, replace makes it the whole configuration.",
    },
    CommandHelp {
        name: "refresh",
        usage: "refresh",
        text: "Drop the staged changes and read the CIB again.",
    },
];
