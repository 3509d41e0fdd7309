"""Writes tests/fixtures/configs/ from the test PKI (real pins of tests/toolkit/pki.py keys).

Run ``python -m tests.toolkit.make_fixtures`` after changing the test PKI; test_fixtures.py checks
the committed files equal what this writes.
"""

from __future__ import annotations

import plistlib
from pathlib import Path

from tests.toolkit.pki import pins

CONFIGS = Path(__file__).resolve().parents[1] / "fixtures" / "configs"

NSC = """<?xml version="1.0" encoding="utf-8"?>
<network-security-config>
{body}</network-security-config>
"""


def texts() -> dict[str, str | bytes]:
    p = pins()
    out: dict[str, str | bytes] = {}
    out["nsc_basic.xml"] = NSC.format(
        body=f"""\
    <!-- Pin the issuing CA, with an unrelated CA's root as backup. -->
    <domain-config>
        <domain includeSubdomains="false">api.example.com</domain>
        <pin-set expiration="2027-06-30">
            <pin digest="SHA-256">{p["ca1"]}</pin>
            <pin digest="SHA-256">{p["backup_root"]}</pin>
        </pin-set>
    </domain-config>
"""
    )
    out["nsc_inheritance.xml"] = NSC.format(
        body=f"""\
    <domain-config cleartextTrafficPermitted="false">
        <domain includeSubdomains="true">example.com</domain>
        <pin-set>
            <pin digest="sha-256">{p["root"]}</pin>
            <pin digest="SHA-256">{p["backup_root"]}</pin>
        </pin-set>
        <!-- Nested: inherits the pin-set above; includeSubdomains is per domain. -->
        <domain-config hstsEnforced="true">
            <domain>api.example.com</domain>
        </domain-config>
    </domain-config>
    <!-- A sibling for cleartext: most specific wins, so static.example.com is NOT pinned. -->
    <domain-config cleartextTrafficPermitted="true">
        <domain includeSubdomains="true">static.example.com</domain>
    </domain-config>
    <!-- base-config after the domain-configs still is their parent. -->
    <base-config cleartextTrafficPermitted="false">
        <trust-anchors>
            <certificates src="system" />
        </trust-anchors>
    </base-config>
"""
    )
    out["nsc_expired.xml"] = NSC.format(
        body=f"""\
    <domain-config>
        <domain includeSubdomains="true">api.example.com</domain>
        <pin-set expiration="2025-12-31">
            <pin digest="SHA-256">{p["leaf"]}</pin>
        </pin-set>
    </domain-config>
"""
    )
    out["nsc_debug_overrides.xml"] = NSC.format(
        body=f"""\
    <base-config>
        <trust-anchors>
            <certificates src="system" />
            <certificates src="user" overridePins="true" />
        </trust-anchors>
    </base-config>
    <domain-config>
        <domain>api.example.com</domain>
        <pin-set>
            <pin digest="SHA-256">{p["ca1"]}</pin>
            <pin digest="SHA-256">{p["next_leaf"]}</pin>
        </pin-set>
    </domain-config>
    <debug-overrides>
        <trust-anchors>
            <certificates src="user" />
            <certificates src="@raw/debug_ca" />
        </trust-anchors>
    </debug-overrides>
"""
    )
    out["nsc_trustkit.xml"] = NSC.format(
        body=f"""\
    <!-- TrustKit-Android: no enforcePinning attribute, so it defaults to false. -->
    <domain-config>
        <domain includeSubdomains="true">example.com</domain>
        <pin-set>
            <pin digest="SHA-256">{p["next_leaf"]}</pin>
            <pin digest="SHA-256">{p["backup_root"]}</pin>
        </pin-set>
        <trustkit-config disableDefaultReportUri="true">
            <report-uri>https://reports.example.com/pins</report-uri>
        </trustkit-config>
    </domain-config>
"""
    )
    out["nsc_trustkit_one_pin.xml"] = NSC.format(
        body=f"""\
    <domain-config>
        <domain>api.example.com</domain>
        <pin-set>
            <pin digest="SHA-256">{p["ca1"]}</pin>
        </pin-set>
        <trustkit-config enforcePinning="true" />
    </domain-config>
"""
    )
    info = {
        "CFBundleIdentifier": "com.example.app",
        "NSAppTransportSecurity": {
            "NSPinnedDomains": {
                "example.com": {
                    "NSIncludesSubdomains": True,
                    "NSPinnedCAIdentities": [
                        {"SPKI-SHA256-BASE64": p["ca1"]},
                        {"SPKI-SHA256-BASE64": p["backup_root"]},
                    ],
                },
            }
        },
    }
    out["Info.plist"] = plistlib.dumps(info).decode()
    info_bin = {
        "NSAppTransportSecurity": {
            "NSPinnedDomains": {
                "api.example.com": {
                    "NSPinnedLeafIdentities": [{"SPKI-SHA256-BASE64": p["next_leaf"]}],
                    "NSPinnedCAIdentities": [{"SPKI-SHA256-BASE64": p["ca1"]}],
                },
            }
        }
    }
    out["Info-binary.plist"] = plistlib.dumps(info_bin, fmt=plistlib.FMT_BINARY)
    out["ats_unsatisfiable.plist"] = plistlib.dumps(
        {
            "NSAppTransportSecurity": {
                "NSPinnedDomains": {
                    "api.example.com": {
                        "NSPinnedLeafIdentities": [{"SPKI-SHA256-BASE64": p["leaf"]}],
                        "NSPinnedCAIdentities": [{"SPKI-SHA256-BASE64": p["leaf"]}],
                    },
                    "empty.example.com": {"NSPinnedCAIdentities": []},
                }
            }
        }
    ).decode()
    out["trustkit.json"] = f"""{{
  "kTSKSwizzleNetworkDelegates": false,
  "kTSKPinnedDomains": {{
    "example.com": {{
      "kTSKIncludeSubdomains": true,
      "kTSKPublicKeyHashes": ["{p["ca1"]}", "{p["backup_root"]}"],
      "kTSKExpirationDate": "2027-01-01",
      "kTSKReportUris": ["https://reports.example.com/trustkit"]
    }},
    "legacy.example.com": {{
      "kTSKExcludeSubdomainFromParentPolicy": true
    }}
  }}
}}
"""
    out["trustkit_defaults.json"] = f"""{{
  "TSKPinnedDomains": {{
    "api.example.com": {{
      "TSKPublicKeyHashes": ["{p["next_leaf"]}", "{p["backup_root"]}"]
    }}
  }}
}}
"""
    out["trustkit_one_pin.json"] = f"""{{
  "TSKConfiguration": {{
    "TSKPinnedDomains": {{
      "api.example.com": {{
        "TSKPublicKeyHashes": ["{p["ca1"]}"],
        "TSKDisableDefaultReportUri": true
      }}
    }}
  }}
}}
"""
    out["okhttp-pins.txt"] = f"""\
# OkHttp CertificatePinner pins: pattern sha256/BASE64
**.example.com sha256/{p["ca1"]}
**.example.com sha256/{p["backup_root"]}   # backup CA
*.example.com  sha1/{p["leaf_sha1"]}       // legacy SHA-1 leaf pin
"""
    out["CertificatePinner.kt"] = f"""\
val certificatePinner = CertificatePinner.Builder()
    .add(
        "*.example.com",
        "sha256/{p["leaf"]}",
        "sha256/{p["next_leaf"]}",
    )
    .build()
"""
    out["okhttp_sha1.txt"] = f"api.example.com sha1/{p['ca1_sha1']}\n"
    return out


def write(directory: Path = CONFIGS) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in texts().items():
        path = directory / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)


if __name__ == "__main__":
    write()
