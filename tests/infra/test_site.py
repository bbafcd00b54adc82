"""The collectors' workbench in AWS: the page in a private bucket behind CloudFront (origin access control,
security headers, HTTPS only, logs), Cognito's hosted UI with a public PKCE client whose callback is the
site, the API's CORS admitting the site's origin alone, and a CloudFront WAF where the region allows it."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match, Template

from tests.infra.conftest import synth
from tests.infra.test_stack import _with


def resources(template: Template, kind: str) -> dict[str, Any]:
    return dict(template.find_resources(kind))


def test_the_page_is_served_by_cloudfront_from_a_private_bucket_with_security_headers(template: Template) -> None:
    (distribution,) = resources(template, "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultRootObject"] == "index.html" and "Logging" in config
    (origin,) = config["Origins"]
    assert "OriginAccessControlId" in origin and origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    (policy,) = resources(template, "AWS::CloudFront::ResponseHeadersPolicy").values()
    security = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    pages = [b for k, b in resources(template, "AWS::S3::Bucket").items() if k.startswith("SitePages")]
    (bucket,) = pages
    block = bucket["Properties"]["PublicAccessBlockConfiguration"]
    assert all(block[k] for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"))


def test_staff_sign_in_with_cognito_authorisation_code_and_pkce_back_to_the_site(template: Template) -> None:
    clients = resources(template, "AWS::Cognito::UserPoolClient")
    (workbench,) = [c for k, c in clients.items() if "Workbench" in k]
    props = workbench["Properties"]
    assert props["AllowedOAuthFlows"] == ["code"] and props["AllowedOAuthFlowsUserPoolClient"] is True
    assert props.get("GenerateSecret", False) is False  # a browser keeps no secret: PKCE
    assert "implicit" not in json.dumps(props)
    assert "DomainName" in json.dumps(props["CallbackURLs"])  # the distribution's own domain
    template.resource_count_is("AWS::Cognito::UserPoolDomain", 1)


def test_the_api_admits_the_sites_origin_alone_and_the_page_learns_the_apis_url(template: Template) -> None:
    preflights = [
        m for m in resources(template, "AWS::ApiGateway::Method").values() if m["Properties"]["HttpMethod"] == "OPTIONS"
    ]
    for method in preflights:
        headers = method["Properties"]["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
        origin = json.dumps(headers["method.response.header.Access-Control-Allow-Origin"])
        assert "DomainName" in origin and "*" not in origin
    template.has_resource_properties(
        "AWS::Lambda::Function",
        Match.object_like(
            {
                "FunctionName": Match.string_like_regexp(r"-api$"),
                "Environment": {"Variables": Match.object_like({"SITE_ORIGIN": Match.any_value()})},
            }
        ),
    )
    (deployment,) = resources(template, "Custom::CDKBucketDeployment").values()
    assert len(deployment["Properties"]["SourceObjectKeys"]) == 2  # web/ and the generated config.js
    assert "DistributionId" in deployment["Properties"]  # the cache is refreshed with each deployment


def test_a_cloudfront_web_acl_is_created_in_us_east_1_or_named_by_the_settings() -> None:
    _, here = synth({"dueflow": _with(region="us-east-1")})
    here.has_resource_properties("AWS::WAFv2::WebACL", {"Scope": "CLOUDFRONT"})
    (distribution,) = resources(here, "AWS::CloudFront::Distribution").values()
    assert "WebACLId" in distribution["Properties"]["DistributionConfig"]
    (default,) = resources(synth()[1], "AWS::CloudFront::Distribution").values()  # ap-southeast-1, none named
    assert "WebACLId" not in default["Properties"]["DistributionConfig"]
    arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/bank-site/0a1b2c"
    _, named = synth({"dueflow": _with(site_web_acl_arn=arn)})
    (distribution,) = resources(named, "AWS::CloudFront::Distribution").values()
    assert distribution["Properties"]["DistributionConfig"]["WebACLId"] == arn
