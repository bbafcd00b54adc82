"""The REST API: Cognito for staff, IAM for the bank's payment system, validated, logged, throttled,
behind a WAF."""

from __future__ import annotations

import re

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as waf
from constructs import Construct

from dueflow.settings import Settings
from infra.constructs.logging import retention

# (method, path, authorization): staff routes use Cognito; the payment feed signs with IAM.
ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "loans/{loan_id}/payments", "iam"),
    ("GET", "cases", "cognito"),
    ("GET", "approvals", "cognito"),
    ("GET", "cases/{case_id}", "cognito"),
    ("GET", "cases/{case_id}/view", "cognito"),
    ("GET", "cases/{case_id}/plan-preview", "cognito"),
    ("POST", "cases/{case_id}/phone-reveal", "cognito"),
    ("POST", "cases/{case_id}/call-outcomes", "cognito"),
    ("POST", "cases/{case_id}/notes", "cognito"),
    ("POST", "cases/{case_id}/waiver-approvals/refuse", "cognito"),
    ("POST", "cases/{case_id}/assignment", "cognito"),
    ("POST", "cases/{case_id}/plan-proposals", "cognito"),
    ("POST", "cases/{case_id}/plan-acceptance", "iam"),
    ("POST", "cases/{case_id}/waiver-approvals", "cognito"),
    ("POST", "cases/{case_id}/do-not-contact", "cognito"),
    ("POST", "cases/{case_id}/do-not-contact/clear", "cognito"),
    ("POST", "cases/{case_id}/acceleration-notice", "cognito"),
    ("POST", "cases/{case_id}/conversations", "cognito"),
    ("POST", "cases/{case_id}/call-attempts", "cognito"),
    ("POST", "cases/{case_id}/promises", "cognito"),
    ("POST", "cases/{case_id}/complaints", "cognito"),
    ("POST", "cases/{case_id}/complaints/resolve", "cognito"),
    ("POST", "cases/{case_id}/opt-outs", "cognito"),
    ("GET", "cases/{case_id}/audit", "cognito"),
    ("GET", "cases/{case_id}/litigation-package", "cognito"),
)


def resource_policy(settings: Settings) -> iam.PolicyDocument:
    """Anyone may reach the API (staff routes then need a Cognito token); the IAM-signed routes admit
    the payment-feed role alone: for a caller of the same account an identity policy would otherwise
    be enough, so the other principals are denied explicitly."""
    feed = f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/{settings.payment_feed_role_name}"
    iam_routes = [
        f"execute-api:/*/{method}/{re.sub(r'[{][^}]+[}]', '*', path)}" for method, path, auth in ROUTES if auth == "iam"
    ]
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                principals=[iam.AnyPrincipal()], actions=["execute-api:Invoke"], resources=["execute-api:/*"]
            ),
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["execute-api:Invoke"],
                resources=iam_routes,
                conditions={"StringNotEquals": {"aws:PrincipalArn": feed}},
            ),
        ]
    )


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        handler: lambda_.IFunction,
        user_pool: cognito.IUserPool,
        key: kms.IKey,
        site_origin: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=retention(settings), encryption_key=key, removal_policy=RemovalPolicy.RETAIN
        )
        self.rest_api = apigw.RestApi(
            self,
            "Rest",
            rest_api_name=f"{settings.prefix}-api",
            description="DueFlow: payments, plans, promises, complaints, case lookup",
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=settings.environment,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request bodies may carry amounts and names: never in logs
                tracing_enabled=True,
                throttling_rate_limit=settings.api_rate_limit,
                throttling_burst_limit=settings.api_burst_limit,
            ),
            endpoint_types=[apigw.EndpointType.REGIONAL],
            policy=resource_policy(settings),
            # the workbench's page calls the API from its own origin (CloudFront): that origin alone
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=[site_origin],
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=Duration.hours(1),
            )
            if site_origin
            else None,
        )
        self.validator = self.rest_api.add_request_validator(
            "Validate", validate_request_body=True, validate_request_parameters=True
        )
        authorizer = apigw.CognitoUserPoolsAuthorizer(self, "Staff", cognito_user_pools=[user_pool])
        integration = apigw.LambdaIntegration(handler)
        for method, path, auth in ROUTES:
            resource = self.rest_api.root.resource_for_path(path)
            if auth == "iam":
                resource.add_method(
                    method,
                    integration,
                    authorization_type=apigw.AuthorizationType.IAM,
                    request_validator=self.validator,
                )
            else:
                resource.add_method(
                    method,
                    integration,
                    authorization_type=apigw.AuthorizationType.COGNITO,
                    authorizer=authorizer,
                    request_validator=self.validator,
                )
        self.web_acl = managed_web_acl(
            self,
            "REGIONAL",
            f"{settings.prefix}-api",
            (
                "AWSManagedRulesCommonRuleSet",
                "AWSManagedRulesKnownBadInputsRuleSet",
                "AWSManagedRulesAmazonIpReputationList",
            ),
        )
        waf.CfnWebACLAssociation(
            self,
            "FirewallAssociation",
            resource_arn=self.rest_api.deployment_stage.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )


def managed_web_acl(scope: Construct, waf_scope: str, metric: str, rules: tuple[str, ...]) -> waf.CfnWebACL:
    """A web ACL "Firewall" of AWS managed rule groups, in this order, allowing what none of them blocks
    (``waf_scope``: REGIONAL for the API, CLOUDFRONT for the workbench's site)."""
    return waf.CfnWebACL(
        scope,
        "Firewall",
        scope=waf_scope,
        default_action=waf.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=waf.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
        ),
        rules=[managed_rule(name, priority) for priority, name in enumerate(rules)],
    )


def managed_rule(name: str, priority: int) -> waf.CfnWebACL.RuleProperty:
    return waf.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        override_action=waf.CfnWebACL.OverrideActionProperty(none={}),
        statement=waf.CfnWebACL.StatementProperty(
            managed_rule_group_statement=waf.CfnWebACL.ManagedRuleGroupStatementProperty(vendor_name="AWS", name=name)
        ),
        visibility_config=waf.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
        ),
    )
