"""The collectors' workbench in AWS: the static page (``web/``) in a private bucket behind CloudFront (origin
access control, security headers, access logs, WAF where the stack's region allows it), its sign-in by
Cognito's hosted UI (authorisation code with PKCE, a public client with no secret), and the page's
``config.js`` written at deploy time with the API's URL and the login's details.
"""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from dueflow.settings import Settings
from infra.constructs.api import managed_web_acl

WEB = Path(__file__).resolve().parents[2] / "web"

# what the page may load and talk to: itself, the API and the Cognito login; nothing else, no framing
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' https://*.amazonaws.com https://*.amazoncognito.com; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)


class Site(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        user_pool: cognito.UserPool,
        access_logs: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Pages",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="site-bucket/",
            removal_policy=RemovalPolicy.DESTROY,  # a copy of web/: the repository is its source
            auto_delete_objects=False,
        )
        self.cdn_logs = s3.Bucket(
            self,
            "CdnLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            # CloudFront standard logging writes with an ACL: the bucket must accept ACLs from its owner
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="cdn-logs-bucket/",
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(settings.log_retention_days))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=CSP, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=True, override=True
                ),
            ),
        )
        self.web_acl_arn = self._web_acl(settings)
        self.distribution = cloudfront.Distribution(
            self,
            "Cdn",
            comment=f"{settings.prefix} collectors' workbench",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                response_headers_policy=headers,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
            ),
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            enable_logging=True,
            log_bucket=self.cdn_logs,
            log_file_prefix="cdn/",
            web_acl_id=self.web_acl_arn,
        )
        self.origin = f"https://{self.distribution.distribution_domain_name}"
        self.domain = user_pool.add_domain(
            "Login", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=settings.login_domain)
        )
        self.client = user_pool.add_client(
            "Workbench",
            generate_secret=False,  # a browser keeps no secret: PKCE protects the code exchange
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[f"{self.origin}/"],
                logout_urls=[f"{self.origin}/"],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12),
        )

    def publish(self, api_url: str) -> None:
        """Upload the page with its ``config.js`` (the API's URL, the login), and refresh CloudFront."""
        region = Stack.of(self).region
        config = {
            "mode": "cognito",
            "api": api_url.rstrip("/"),
            "authDomain": f"https://{self.domain.domain_name}.auth.{region}.amazoncognito.com",
            "clientId": self.client.user_pool_client_id,
            "redirectUri": f"{self.origin}/",
        }
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Publish",
            destination_bucket=self.bucket,
            sources=[
                s3deploy.Source.asset(str(WEB), exclude=["config.js"]),
                s3deploy.Source.data("config.js", f"window.DUEFLOW_CONFIG = {json.dumps(config)};\n"),
            ],
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=256,
        )

    def _web_acl(self, settings: Settings) -> str | None:
        """A CloudFront web ACL lives in us-east-1: created here when the stack is there, else the one
        named by ``site_web_acl_arn`` (created in us-east-1 by the bank), else none (docs/deploy.md)."""
        if settings.site_web_acl_arn:
            return settings.site_web_acl_arn
        if settings.region != "us-east-1":
            return None
        acl = managed_web_acl(
            self,
            "CLOUDFRONT",
            f"{settings.prefix}-site",
            ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesAmazonIpReputationList"),
        )
        return str(acl.attr_arn)
