// The DueFlow collectors' workbench: one page, no build step, no third-party code. It talks to the
// REST API only (functions/api); every change it makes goes through the same authorisation as any
// other client, and the page shows controls only to those who may use them.
"use strict";

(() => {
  const CONFIG = window.DUEFLOW_CONFIG || { mode: "local", api: "/api" };

  // -- words --------------------------------------------------------------------------------------
  const WORDS = {
    en: {
      language: "Language", sign_out: "Sign out", sign_in: "Sign in", queue: "Queue", my_queue: "My queue",
      open_cases: "Open cases", approvals: "Approvals", team: "Team", find: "Find a case",
      local_only: "Local sign-in: for local use only. In AWS you sign in with the bank's Cognito login.",
      pick_user: "Choose who you are (one user per role)", case: "Case", stage: "Stage", dpd: "Days past due",
      bucket: "Bucket", overdue: "Overdue", assigned: "Assigned to", promise: "Promise", contact: "Call now?",
      yes: "yes", no: "no", next_page: "Next page", filters: "Filters", apply: "Apply", any: "any",
      complaint_open: "Complaint open", promise_due: "Promise due", awaiting_approval: "Awaiting approval",
      assignee: "Assignee", statement: "Itemised statement", timeline: "Timeline", as_of: "As of",
      principal: "Principal", interest: "Interest", penalty: "Penalty (罚息 + 复利)", total: "Total",
      due_date: "Due", days: "Days", customer_time: "Customer's local time", call_allowed: "A call may be placed now",
      call_not_allowed: "No call now", next_allowed: "Next allowed", reveal: "Reveal phone number to call",
      record_outcome: "Record the call", disposition: "Outcome", promise_date: "Promised date",
      promise_amount: "Promised amount", reason_code: "Reason for delinquency", reason_text: "In the customer's words",
      note: "Note", add_note: "Add note", save: "Save", propose: "Propose a plan", waive_penalty: "Waive penalty",
      waive_interest: "Waive interest", months: "Months", request_approval: "Ask for approval if beyond my authority",
      assign: "Assign", agent: "Agent", approve: "Approve", refuse: "Refuse", reason: "Reason",
      waiver_request: "Waiver request", requested_by: "Requested by", needs: "Needs", read_only: "Read only: you may not change this case.",
      chain_ok: "Audit chain verified", chain_bad: "Audit chain FAILED verification", records: "records",
      litigation: "Litigation package", no_cases: "No cases.", advance: "Next day", day: "Day",
      by_stage: "Open cases by stage", by_bucket: "By bucket", by_agent: "By agent", promises_due: "Promises due",
      complaints: "Complaints and their deadlines", deadline: "Deadline", saved: "Saved.", go: "Open",
      case_id: "Case id", forbidden: "Not allowed", unassigned: "unassigned", status: "Status",
      d_right_party_contact: "Spoke with the customer", d_promise_to_pay: "Promise to pay", d_hardship: "Hardship",
      d_refused: "Refused to pay", d_dispute: "Disputes the debt", d_left_message: "Left a message",
      d_no_answer: "No answer", d_wrong_number: "Wrong number", newest_first: "newest first",
      calculate: "Calculate", within_authority: "The waiver is within your authority", affordable: "affordable a month",
      outcome: "Closed as", open: "open", handed_to_legal: "Handed to legal",
    },
    "zh-CN": {
      language: "语言", sign_out: "退出", sign_in: "登录", queue: "工作队列", my_queue: "我的队列",
      open_cases: "在催案件", approvals: "待审批", team: "团队概览", find: "查找案件",
      local_only: "本地登录：仅供本地使用。在 AWS 上通过银行的 Cognito 登录。",
      pick_user: "选择身份（每个角色一个用户）", case: "案件", stage: "阶段", dpd: "逾期天数",
      bucket: "账龄", overdue: "逾期金额", assigned: "催收员", promise: "承诺还款", contact: "现在可致电？",
      yes: "是", no: "否", next_page: "下一页", filters: "筛选", apply: "应用", any: "全部",
      complaint_open: "投诉处理中", promise_due: "承诺到期", awaiting_approval: "待审批",
      assignee: "负责人", statement: "逾期账单", timeline: "时间线", as_of: "截至",
      principal: "本金", interest: "利息", penalty: "罚息与复利", total: "合计",
      due_date: "到期日", days: "天数", customer_time: "客户当地时间", call_allowed: "现在可以致电",
      call_not_allowed: "现在不可致电", next_allowed: "最早可致电", reveal: "显示电话号码以致电",
      record_outcome: "记录通话结果", disposition: "结果", promise_date: "承诺日期",
      promise_amount: "承诺金额", reason_code: "逾期原因", reason_text: "客户原话",
      note: "备注", add_note: "添加备注", save: "保存", propose: "提出还款计划", waive_penalty: "减免罚息",
      waive_interest: "减免利息", months: "期数", request_approval: "超出权限时提交审批",
      assign: "分配", agent: "催收员", approve: "批准", refuse: "拒绝", reason: "理由",
      waiver_request: "减免申请", requested_by: "申请人", needs: "需审批角色", read_only: "只读：您不能修改此案件。",
      chain_ok: "审计链校验通过", chain_bad: "审计链校验失败", records: "条记录",
      litigation: "诉讼材料", no_cases: "没有案件。", advance: "下一天", day: "日期",
      by_stage: "按阶段", by_bucket: "按账龄", by_agent: "按催收员", promises_due: "到期的还款承诺",
      complaints: "投诉及处理期限", deadline: "期限", saved: "已保存。", go: "打开",
      case_id: "案件编号", forbidden: "无权操作", unassigned: "未分配", status: "状态",
      d_right_party_contact: "联系到本人", d_promise_to_pay: "承诺还款", d_hardship: "经济困难",
      d_refused: "拒绝还款", d_dispute: "对债务有异议", d_left_message: "已留言",
      d_no_answer: "无人接听", d_wrong_number: "号码错误", newest_first: "最新在前",
      calculate: "试算", within_authority: "减免在您的权限内", affordable: "每月可负担",
      outcome: "结案类型", open: "在催", handed_to_legal: "已移交法务",
    },
  };
  const DISPOSITIONS = ["no_answer", "left_message", "wrong_number", "right_party_contact", "promise_to_pay", "hardship", "refused", "dispute"];
  const REASONS = ["unemployment", "income_reduced", "illness_or_injury", "business_difficulty", "family_emergency", "overspending", "forgot_or_payment_problem", "disputes_the_debt", "other"];
  const BUCKETS = ["M1", "M2", "M3", "M4", "M5", "M6", "M7+"];
  // where an open case waits (the state machine's states, as the Step Functions console names them)
  const STAGES = ["Await response", "Await response to second reminder", "Await agreement", "Await plan event"];
  let lang = localStorage.getItem("dueflow.lang") || ((navigator.language || "").startsWith("zh") ? "zh-CN" : "en");
  const t = (key) => (WORDS[lang] && WORDS[lang][key]) || WORDS.en[key] || key;

  // -- DOM helpers: text only, never HTML from data -----------------------------------------------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }
  const app = () => document.getElementById("app");
  // each route renders once it has its data; a later route (the user moved on) wins over an earlier one
  let latest = 0;
  function showAt(seq, ...nodes) {
    if (seq !== latest) return;
    app().replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false));
    app().focus();
  }
  function field(id, label, input) { input.id = id; return h("label", { for: id }, label, input); }
  function money(amount, currency) {
    try { return new Intl.NumberFormat(lang, { style: "currency", currency }).format(Number(amount)); }
    catch (e) { return `${amount} ${currency}`; }
  }
  // a time of record in a zone (the customer's, on the case page), as the reader's language writes it
  function when(iso, timeZone) {
    if (!iso) return "";
    try { return new Intl.DateTimeFormat(lang, { dateStyle: "short", timeStyle: "short", timeZone }).format(new Date(iso)); }
    catch (e) { return iso.replace("T", " ").slice(0, 16); }
  }

  // -- the session --------------------------------------------------------------------------------
  const session = {
    get user() { return sessionStorage.getItem("dueflow.user"); },
    get groups() { return JSON.parse(sessionStorage.getItem("dueflow.groups") || "[]"); },
    get token() { return sessionStorage.getItem("dueflow.token"); },
    set(user, groups, token) {
      sessionStorage.setItem("dueflow.user", user);
      sessionStorage.setItem("dueflow.groups", JSON.stringify(groups));
      if (token) sessionStorage.setItem("dueflow.token", token);
    },
    clear() { for (const k of ["user", "groups", "token"]) sessionStorage.removeItem(`dueflow.${k}`); },
    has(...roles) { return roles.some((r) => this.groups.includes(r)); },
  };
  const isManager = () => session.has("supervisor", "collections_manager");
  const isAgentOnly = () => session.has("agent") && !session.has("supervisor", "collections_manager", "legal", "auditor");

  // when a call happened: the browser's clock in AWS, the simulated clock of the local runtime
  async function nowIso() {
    if (CONFIG.mode !== "local") return new Date().toISOString();
    return (await (await fetch("/local/clock")).json()).now;
  }

  async function api(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    if (CONFIG.mode === "local") headers["X-Local-User"] = session.user || "";
    else headers.Authorization = session.token || "";
    const res = await fetch(CONFIG.api + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const error = new Error(data.message || res.statusText);
      error.status = res.status;
      throw error;
    }
    return data;
  }

  // -- Cognito hosted UI: authorisation code with PKCE (mode "cognito") ---------------------------
  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  async function cognitoSignIn() {
    const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
    const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
    sessionStorage.setItem("dueflow.pkce", JSON.stringify({ verifier, state }));
    const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    const query = new URLSearchParams({
      response_type: "code", client_id: CONFIG.clientId, redirect_uri: CONFIG.redirectUri, scope: "openid email profile",
      code_challenge: challenge, code_challenge_method: "S256", state,
    });
    location.assign(`${CONFIG.authDomain}/oauth2/authorize?${query}`);
  }
  async function cognitoCallback() {
    const params = new URLSearchParams(location.search);
    const code = params.get("code");
    if (!code) return false;
    const saved = JSON.parse(sessionStorage.getItem("dueflow.pkce") || "{}");
    sessionStorage.removeItem("dueflow.pkce");
    if (!saved.state || saved.state !== params.get("state")) throw new Error("sign-in state mismatch");
    const res = await fetch(`${CONFIG.authDomain}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", client_id: CONFIG.clientId, code, redirect_uri: CONFIG.redirectUri, code_verifier: saved.verifier }),
    });
    const tokens = await res.json();
    const claims = JSON.parse(atob(tokens.id_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    session.set(claims["cognito:username"] || claims.sub, claims["cognito:groups"] || [], tokens.id_token);
    history.replaceState(null, "", location.pathname + "#/queue");
    return true;
  }

  // -- chrome: navigation, language, who, the local clock -----------------------------------------
  function chrome() {
    document.documentElement.lang = lang;
    for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
    const nav = document.getElementById("nav");
    nav.replaceChildren();
    const route = location.hash.split("?")[0];
    const link = (href, label) => h("a", { href, "aria-current": route === href ? "page" : null }, label);
    if (session.user) {
      nav.append(link("#/queue", isAgentOnly() ? t("my_queue") : t("open_cases")));
      if (isManager()) nav.append(link("#/approvals", t("approvals")), link("#/team", t("team")));
      if (session.has("legal")) nav.append(link("#/queue?outcome=LITIGATION", t("handed_to_legal")));
      nav.append(link("#/find", t("find")));
    }
    document.getElementById("who").textContent = session.user ? `${session.user} (${session.groups.join(", ")})` : "";
    document.getElementById("signout").hidden = !session.user;
    const banner = document.getElementById("banner");
    banner.replaceChildren();
    if (CONFIG.mode === "local") {
      banner.append(t("local_only"));
      const day = h("span", { id: "day" });
      banner.append(" ", h("strong", {}, t("day"), ": "), day, " ",
        h("button", { type: "button", id: "advance", class: "secondary", onclick: advance }, t("advance")));
      fetch("/local/clock").then((r) => r.json()).then((c) => { day.textContent = c.day; }).catch(() => {});
    }
  }
  async function advance() {
    await fetch("/local/advance", { method: "POST" });
    route();
  }

  // -- views ------------------------------------------------------------------------------------------
  async function signInView() {
    const seq = latest;
    if (CONFIG.mode !== "local") {
      showAt(seq, h("h1", {}, t("sign_in")), h("button", { type: "button", id: "cognito-sign-in", onclick: cognitoSignIn }, t("sign_in")));
      return;
    }
    const users = (await (await fetch("/local/users")).json()).users;
    showAt(seq, 
      h("h1", {}, t("pick_user")),
      h("p", { class: "warn" }, t("local_only")),
      h("div", { class: "users" }, users.map((u) => h("button", {
        type: "button", id: `sign-in-${u.user}`,
        onclick: () => { session.set(u.user, u.groups); location.hash = "#/queue"; },
      }, `${u.user} — ${u.groups.join(", ")}`))),
    );
  }

  function queueFilters(params) {
    const select = (name, options) => {
      const el = h("select", { name }, h("option", { value: "" }, t("any")), options.map(([v, l]) => h("option", { value: v, selected: params.get(name) === v }, l)));
      return field(`f-${name}`, t(name === "awaiting_approval" ? "awaiting_approval" : name), el);
    };
    const yesNo = [["true", t("yes")], ["false", t("no")]];
    const form = h("form", { class: "inline", id: "filters", "aria-label": t("filters") },
      select("stage", STAGES.map((v) => [v, v])),
      select("bucket", BUCKETS.map((b) => [b, b])),
      select("complaint_open", yesNo),
      select("promise_due", yesNo),
      select("awaiting_approval", yesNo),
      isAgentOnly() ? null : field("f-assignee", t("assignee"), h("input", { name: "assignee", value: params.get("assignee") || "", size: 8 })),
      isAgentOnly() ? null : field("f-outcome", t("outcome"), h("select", { name: "outcome" }, h("option", { value: "" }, t("open")),
        ["LITIGATION", "WRITE_OFF_REVIEW", "SETTLED", "CURED"].map((o) => h("option", { value: o, selected: params.get("outcome") === o }, o)))),
      h("button", { type: "submit" }, t("apply")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const q = new URLSearchParams();
      for (const [k, v] of new FormData(form)) if (v) q.set(k, v);
      location.hash = `#/queue?${q}`;
    });
    return form;
  }

  async function queueView(params) {
    const seq = latest;
    const query = new URLSearchParams(params);
    const data = await api("GET", `/cases?${query}`);
    const rows = data.cases.map((c) => h("tr", { "data-case": c.case_id },
      h("td", {}, h("a", { href: `#/case/${encodeURIComponent(c.case_id)}` }, c.case_id)),
      h("td", {}, c.stage),
      h("td", { class: "num" }, c.dpd),
      h("td", {}, c.bucket),
      h("td", { class: "num" }, money(c.total_overdue, c.currency)),
      h("td", { class: "opt" }, c.assigned_to || t("unassigned")),
      h("td", { class: "opt" }, c.promise ? `${money(c.promise.amount, c.currency)} · ${c.promise.promised_date}` : ""),
      h("td", {}, c.contact.call_allowed_now ? h("span", { class: "ok" }, t("yes")) : h("span", { class: "warn", title: c.contact.reason }, `${t("no")}: ${c.contact.reason}`)),
    ));
    const next = data.next_cursor ? h("button", { type: "button", class: "secondary", id: "next-page", onclick: () => {
      query.set("cursor", data.next_cursor); location.hash = `#/queue?${query}`;
    } }, t("next_page")) : null;
    showAt(seq, 
      h("h1", {}, isAgentOnly() ? t("my_queue") : t("open_cases"), " ", h("span", { class: "pill" }, data.total)),
      queueFilters(query),
      rows.length ? h("table", { id: "queue-table" },
        h("thead", {}, h("tr", {}, [t("case"), t("stage"), t("dpd"), t("bucket"), t("overdue"), t("assigned"), t("promise"), t("contact")].map((c, i) => h("th", { scope: "col", class: [2, 4].includes(i) ? "num" : [5, 6].includes(i) ? "opt" : null }, c)))),
        h("tbody", {}, rows)) : h("p", {}, t("no_cases")),
      next,
    );
  }

  function describe(e, currency) {
    const b = e.body || {};
    switch (e.type) {
      case "case_opened": return `${b.dpd} ${t("days")}, ${money(b.total_overdue, currency)} (${b.bucket})`;
      case "stage_entered": return b.stage;
      case "message_sent": return `${b.channel}: ${b.text}${b.provider_id ? ` [${b.provider_id}]` : ""}`;
      case "message_dropped": return `${b.channel} ${b.template}: ${b.reason}`;
      case "call_attempt": return `${b.outcome} (${b.by})`;
      case "call_outcome": return `${t(`d_${b.disposition}`)} (${b.by})${b.note ? ` — ${b.note}` : ""}${b.reason_code ? ` — ${b.reason_code}: ${b.reason_text || ""}` : ""}`;
      case "payment_received": return `${money(b.amount, currency)} ${b.date}`;
      case "promise_to_pay": return `${money(b.amount, currency)} → ${b.promised_date} (${b.by})`;
      case "note": return `${b.text} (${b.by})`;
      case "phone_revealed": return `${b.by}`;
      case "case_assigned": return `${b.from || "—"} → ${b.to} (${b.by})`;
      case "waiver_decision": return `${b.approved ? "✓" : "✗"} ${b.by}: ${b.penalty_requested} / ${b.interest_requested}${b.reason ? ` — ${b.reason}` : ""}`;
      case "plan_proposed": return `v${b.version}: ${money(b.amount, currency)} / ${(b.installments || []).length}`;
      case "complaint_opened": return `${b.by} → ${b.deadline}`;
      default: return Object.entries(b).filter(([, v]) => typeof v !== "object").slice(0, 4).map(([k, v]) => `${k} ${v}`).join(", ");
    }
  }

  function statementPanel(s) {
    return h("section", { class: "panel", "aria-labelledby": "statement-h" },
      h("h2", { id: "statement-h" }, t("statement"), " ", h("span", { class: "pill" }, `${t("as_of")} ${s.as_of}`)),
      h("p", {}, `${t("dpd")}: ${s.dpd} · ${s.bucket} · ${t("total")}: `, h("strong", { id: "statement-total" }, money(s.total_overdue, s.currency))),
      h("table", {},
        h("thead", {}, h("tr", {}, [t("due_date"), t("days"), t("principal"), t("interest"), t("penalty"), t("total")].map((c, i) => h("th", { scope: "col", class: i > 1 ? "num" : null }, c)))),
        h("tbody", {}, s.installments.map((l) => h("tr", {},
          h("td", {}, l.due_date), h("td", {}, l.days_overdue),
          h("td", { class: "num" }, money(l.principal_outstanding, s.currency)),
          h("td", { class: "num" }, money(l.interest_outstanding, s.currency)),
          h("td", { class: "num" }, money(l.penalty_outstanding, s.currency)),
          h("td", { class: "num" }, money(l.total_outstanding, s.currency)))))));
  }

  function actionForms(id, view, refresh) {
    const say = h("p", { role: "status", id: "action-status" });
    const flash = (cls, text) => {
      const el = document.getElementById("action-status");
      if (el) { el.className = cls; el.textContent = text; }
    };
    const done = async (promise) => {
      try { await promise; await refresh(); flash("ok", t("saved")); }
      catch (e) { flash("error", `${e.status || ""} ${e.message}`); }
    };
    // record the call
    const disposition = h("select", { name: "disposition", required: true }, DISPOSITIONS.map((d) => h("option", { value: d }, t(`d_${d}`))));
    const outcome = h("form", { class: "stack", id: "outcome-form" },
      field("disposition", t("disposition"), disposition),
      field("promise-date", t("promise_date"), h("input", { type: "date", name: "promise_date" })),
      field("promise-amount", t("promise_amount"), h("input", { name: "promise_amount", inputmode: "decimal" })),
      field("reason-code", t("reason_code"), h("select", { name: "reason_code" }, h("option", { value: "" }, "—"), REASONS.map((r) => h("option", { value: r }, r)))),
      field("reason-text", t("reason_text"), h("input", { name: "reason_text" })),
      field("outcome-note", t("note"), h("textarea", { name: "note", rows: 2 })),
      h("button", { type: "submit", id: "record-outcome" }, t("save")));
    outcome.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { at: await nowIso() };
      for (const [k, v] of new FormData(outcome)) if (v) body[k] = v;
      done(api("POST", `/cases/${encodeURIComponent(id)}/call-outcomes`, body));
    });
    const note = h("form", { class: "inline", id: "note-form" }, field("note-text", t("note"), h("input", { name: "text", required: true, size: 40 })), h("button", { type: "submit" }, t("add_note")));
    note.addEventListener("submit", (e) => { e.preventDefault(); done(api("POST", `/cases/${encodeURIComponent(id)}/notes`, { text: new FormData(note).get("text") })); });
    const plan = h("form", { class: "stack", id: "plan-form" },
      field("waive-penalty", t("waive_penalty"), h("input", { name: "waive_penalty", inputmode: "decimal", value: "0" })),
      field("waive-interest", t("waive_interest"), h("input", { name: "waive_interest", inputmode: "decimal", value: "0" })),
      field("months", t("months"), h("input", { name: "months", type: "number", min: 1, max: 120 })),
      h("label", { for: "request-approval", class: "check" }, h("input", { type: "checkbox", id: "request-approval", name: "request_approval", checked: true }), t("request_approval")),
      h("div", {}, h("button", { type: "button", class: "secondary", id: "calculate-plan", onclick: calculate }, t("calculate")), " ",
        h("button", { type: "submit", id: "propose-plan" }, t("propose"))),
      h("div", { id: "plan-preview", "aria-live": "polite" }));
    async function calculate() {
      const f = new FormData(plan);
      const q = new URLSearchParams({ waive_penalty: f.get("waive_penalty") || "0", waive_interest: f.get("waive_interest") || "0" });
      if (f.get("months")) q.set("months", f.get("months"));
      const out = document.getElementById("plan-preview");
      try {
        const p = await api("GET", `/cases/${encodeURIComponent(id)}/plan-preview?${q}`);
        const currency = view.statement.currency;
        out.replaceChildren(
          h("p", { class: p.waiver.approved ? "ok" : "warn" }, p.waiver.approved ? t("within_authority") : `${t("needs")}: ${p.waiver.required_role} — ${p.waiver.reason}`),
          p.ok ? h("p", {}, `${money(p.amount, currency)} · ${p.installments.length} × ${money(p.installments[0].amount, currency)} · ${t("affordable")} ${money(p.affordable_monthly, currency)} (${p.share_of_affordable})`) : h("p", { class: "warn" }, p.reason),
          p.ok ? h("ol", { id: "plan-installments" }, p.installments.map((i) => h("li", {}, `${i.due_date}: ${money(i.amount, currency)}`))) : null);
      } catch (e) { out.replaceChildren(h("p", { class: "error" }, e.message)); }
    }
    plan.addEventListener("submit", (e) => {
      e.preventDefault();
      const f = new FormData(plan);
      const body = { waive_penalty: f.get("waive_penalty") || "0", waive_interest: f.get("waive_interest") || "0", request_approval: f.get("request_approval") === "on" };
      if (f.get("months")) body.months = Number(f.get("months"));
      done(api("POST", `/cases/${encodeURIComponent(id)}/plan-proposals`, body));
    });
    const phone = h("p", { id: "phone", class: "phone" });
    const reveal = h("button", { type: "button", id: "reveal-phone", class: "secondary", onclick: async () => {
      try { phone.textContent = (await api("POST", `/cases/${encodeURIComponent(id)}/phone-reveal`)).phone; }
      catch (e) { phone.className = "error"; phone.textContent = e.message; }
    } }, t("reveal"));
    const panels = [
      h("section", { class: "panel" }, h("h2", {}, t("record_outcome")), reveal, phone, outcome, note),
      h("section", { class: "panel" }, h("h2", {}, t("propose")), plan),
    ];
    if (isManager()) {
      const assign = h("form", { class: "inline", id: "assign-form" }, field("assign-agent", t("agent"), h("input", { name: "agent", required: true, size: 8, value: view.case.assigned_to || "" })), h("button", { type: "submit", id: "assign-button" }, t("assign")));
      assign.addEventListener("submit", (e) => { e.preventDefault(); done(api("POST", `/cases/${encodeURIComponent(id)}/assignment`, { agent: new FormData(assign).get("agent") })); });
      panels.push(h("section", { class: "panel" }, h("h2", {}, t("assign")), assign));
      if (view.case.waiver_request) panels.push(approvalPanel(id, view.case.waiver_request, done));
    }
    return [say, ...panels];
  }

  function approvalPanel(id, request, done) {
    const reason = h("input", { name: "reason", size: 30 });
    // the decision names the request as shown here: if it changed meanwhile, the API refuses it (409)
    const named = { version: request.version, request_hash: request.request_hash };
    return h("section", { class: "panel", id: "waiver-request" },
      h("h2", {}, t("waiver_request")),
      h("p", {}, `${t("requested_by")}: ${request.requested_by} · ${t("waive_penalty")} ${request.penalty} · ${t("waive_interest")} ${request.interest} · ${t("needs")}: ${request.needs}`),
      h("button", { type: "button", id: `approve-${id}`, onclick: () => done(api("POST", `/cases/${encodeURIComponent(id)}/waiver-approvals`, named)) }, t("approve")), " ",
      field(`refuse-reason-${id}`, t("reason"), reason), " ",
      h("button", { type: "button", class: "secondary", id: `refuse-${id}`, onclick: () => done(api("POST", `/cases/${encodeURIComponent(id)}/waiver-approvals/refuse`, { ...named, reason: reason.value })) }, t("refuse")));
  }

  async function caseView(id) {
    const seq = latest;
    const refresh = () => caseView(id);
    const view = await api("GET", `/cases/${encodeURIComponent(id)}/view`);
    const c = view.case;
    const contact = view.contact;
    const currency = view.statement.currency;
    const parts = [
      h("h1", { id: "case-title" }, `${t("case")} ${c.case_id}`),
      h("p", {}, `${t("stage")}: `, h("strong", { id: "case-stage" }, c.stage), ` · ${t("status")}: ${c.status} · ${t("assigned")}: `, h("span", { id: "case-assignee" }, c.assigned_to || t("unassigned"))),
      h("section", { class: "panel", id: "contact-panel" },
        h("p", {}, `${t("customer_time")}: ${contact.local_time} (${contact.timezone})`),
        contact.call_allowed_now ? h("p", { class: "ok" }, t("call_allowed")) : h("p", { class: "warn" }, `${t("call_not_allowed")}: ${contact.reason}${contact.next_allowed ? ` · ${t("next_allowed")} ${when(contact.next_allowed)}` : ""}`)),
    ];
    if (view.chain) parts.push(h("p", { id: "chain", class: view.chain.verified ? "ok" : "bad" }, `${view.chain.verified ? t("chain_ok") : t("chain_bad")} (${view.chain.records} ${t("records")})`));
    const record = [
      statementPanel(view.statement),
      h("section", { class: "panel" }, h("h2", {}, t("timeline"), " ", h("span", { class: "pill" }, `${t("newest_first")} · ${contact.timezone}`)),
        h("ol", { class: "timeline", id: "timeline", reversed: true }, [...view.timeline].reverse().map((e) => h("li", { "data-type": e.type },
          h("span", { class: "when" }, when(e.at, contact.timezone)), h("span", { class: "kind" }, e.type), describe(e, currency))))),
    ];
    if (session.has("legal")) {
      const pkg = h("pre", { id: "litigation" });
      record.push(h("section", { class: "panel" }, h("h2", {}, t("litigation")), pkg));
      api("GET", `/cases/${encodeURIComponent(id)}/litigation-package`).then((p) => { pkg.textContent = p.length ? JSON.stringify(p[0].record.body.claims, null, 2) : "—"; }).catch((e) => { pkg.textContent = e.message; });
    }
    const actions = view.may_act ? actionForms(id, view, refresh) : [h("p", { id: "read-only" }, t("read_only"))];
    parts.push(h("div", { class: "case-layout" }, h("div", {}, record), h("div", {}, actions)));
    showAt(seq, ...parts);
  }

  async function approvalsView() {
    const seq = latest;
    const data = await api("GET", "/approvals");
    const done = async (promise) => { try { await promise; } catch (e) { alert(e.message); } approvalsView(); };
    showAt(seq, h("h1", {}, t("approvals"), " ", h("span", { class: "pill" }, data.requests.length)),
      data.requests.length ? h("div", {}, data.requests.map((r) => h("div", {}, h("a", { href: `#/case/${encodeURIComponent(r.case_id)}` }, r.case_id), approvalPanel(r.case_id, r, done)))) : h("p", {}, t("no_cases")));
  }

  async function teamView() {
    const seq = latest;
    const data = await api("GET", "/cases?limit=200");
    for (let cursor = data.next_cursor; cursor; ) {  // every open case, a page at a time
      const page = await api("GET", `/cases?limit=200&cursor=${cursor}`);
      data.cases.push(...page.cases);
      cursor = page.next_cursor;
    }
    const count = (key) => {
      const counts = {};
      for (const c of data.cases) { const k = key(c) || t("unassigned"); counts[k] = (counts[k] || 0) + 1; }
      return h("table", {}, h("tbody", {}, Object.entries(counts).sort().map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", { class: "num" }, v)))));
    };
    const promises = data.cases.filter((c) => c.promise_due);
    const complaints = data.cases.filter((c) => c.complaint_open);
    showAt(seq, h("h1", {}, t("team"), " ", h("span", { class: "pill" }, data.total)),
      h("div", { class: "grid" },
        h("section", { class: "panel" }, h("h2", {}, t("by_stage")), count((c) => c.stage)),
        h("section", { class: "panel" }, h("h2", {}, t("by_bucket")), count((c) => c.bucket)),
        h("section", { class: "panel", id: "by-agent" }, h("h2", {}, t("by_agent")), count((c) => c.assigned_to))),
      h("section", { class: "panel" }, h("h2", {}, t("promises_due")), promises.length ? null : h("p", {}, t("no_cases")), h("ul", {}, promises.map((c) => h("li", {}, h("a", { href: `#/case/${encodeURIComponent(c.case_id)}` }, c.case_id), ` ${money(c.promise.amount, c.currency)} · ${c.promise.promised_date}`)))),
      h("section", { class: "panel" }, h("h2", {}, t("complaints")), complaints.length ? null : h("p", {}, t("no_cases")), h("ul", {}, complaints.map((c) => h("li", {}, h("a", { href: `#/case/${encodeURIComponent(c.case_id)}` }, c.case_id), ` ${t("deadline")}: ${c.complaint_deadline}`)))));
  }

  function findView() {
    const seq = latest;
    const form = h("form", { class: "inline", id: "find-form" }, field("find-case", t("case_id"), h("input", { name: "case", required: true, size: 24 })), h("button", { type: "submit" }, t("go")));
    form.addEventListener("submit", (e) => { e.preventDefault(); location.hash = `#/case/${encodeURIComponent(new FormData(form).get("case"))}`; });
    showAt(seq, h("h1", {}, t("find")), form);
  }

  // -- routing --------------------------------------------------------------------------------------
  async function route() {
    const seq = ++latest;
    chrome();
    const [path, query] = location.hash.replace(/^#/, "").split("?");
    const params = new URLSearchParams(query || "");
    try {
      if (!session.user) return await signInView();
      if (path.startsWith("/case/")) return await caseView(decodeURIComponent(path.slice(6)));
      if (path === "/approvals") return await approvalsView();
      if (path === "/team") return await teamView();
      if (path === "/find") return findView();
      return await queueView(params);
    } catch (e) {
      showAt(seq, h("p", { class: "error", role: "alert", id: "error" }, `${e.status === 403 ? t("forbidden") : ""} ${e.message}`));
    }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const picker = document.getElementById("lang");
    picker.value = lang;
    picker.addEventListener("change", () => { lang = picker.value; localStorage.setItem("dueflow.lang", lang); route(); });
    document.getElementById("signout").addEventListener("click", () => { session.clear(); location.hash = "#/"; route(); });
    if (CONFIG.mode === "cognito") await cognitoCallback().catch((e) => showAt(latest, h("p", { class: "error" }, e.message)));
    window.addEventListener("hashchange", route);
    route();
  });
})();
