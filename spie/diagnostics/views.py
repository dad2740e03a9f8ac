"""Pages of the diagnostics: a person's list, the step-by-step form, result, print, comparison.

Every page names its policy (``@view_policy``) and loads the person like the record does:
404 when nothing may be known of them, 403 without access to the record. A diagnostic is
always fetched under its person (another person's id → 404). Every page that shows answers
or results writes an access-log row (section "Diagnostic").
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from spie.core.audit import log_access
from spie.core.models import AccessLog
from spie.core.policies import AUTHENTICATED, view_policy
from spie.people import policies as people_policies
from spie.people import selectors as people_selectors

from . import engine, forms, loaders, policies, selectors, services
from .models import SEVERITY_RANK, Severity

SEVERITY_LABELS = dict(Severity.choices)
MAX_RANK = max(SEVERITY_RANK.values())
RESTRICTED_NOTE = "Précisions réservées à la section santé à accès restreint."


# --- loading -------------------------------------------------------------------------------


def _load(request, pk):
    """The person and the current user's access; 404 when nothing may be known of them."""
    person = people_selectors.person_for_record(pk)
    if person is None:
        raise Http404
    access = people_policies.access_for(
        request.user, request.membership, person, followups=person.active_followups, consents=person.all_consents
    )
    if access.relation == people_policies.NONE:
        raise Http404
    if not policies.can_read(access):
        raise PermissionDenied("Vous n'avez pas accès aux diagnostics de cette personne.")
    return person, access


def _log(request, person, reason=""):
    log_access(request, person, AccessLog.Section.DIAGNOSTIC, reason=reason)


def _steps(compiled, access):
    return forms.visible_sections(compiled, restricted=policies.can_see_restricted(access))


def _question_anchor(question):
    if question.kind in {"single", "multiple", "yes_no", "scale", "rome"}:
        return f"{forms.PREFIX}{question.code}-0"
    return f"{forms.PREFIX}{question.code}"


def _missing_by_step(diagnostic, compiled, steps):
    """``[{code, label, step, anchor}]`` of required questions unanswered (step None if hidden)."""
    step_of = {q.code: index for index, section in enumerate(steps, start=1) for q in section.questions}
    rows = []
    for code in engine.missing_required(compiled, diagnostic.answers or {}):
        question = compiled.questions[code]
        rows.append(
            {"code": code, "label": question.label, "step": step_of.get(code), "anchor": _question_anchor(question)}
        )
    return rows


def _orientation_url(person, diagnostic):
    """The orientation page of the person (pathways app), proposing this diagnostic's result."""
    return f"{reverse('pathways:orientations', args=[person.pk])}?diagnostic={diagnostic.pk}"


# --- list and start ------------------------------------------------------------------------


@view_policy("diagnostics.list")
def person_diagnostics(request, pk):
    person, access = _load(request, pk)
    _log(request, person)
    diagnostics = selectors.person_diagnostics(person)
    frameworks = selectors.current_frameworks()
    compiled = selectors.compiled_frameworks([d for d in diagnostics if not d.is_completed])
    for diagnostic in diagnostics:
        if not diagnostic.is_completed and diagnostic.framework_id in compiled:
            diagnostic.progress = engine.progress(compiled[diagnostic.framework_id], diagnostic.answers or {})
    starts = []
    if policies.can_start(access):
        if "spie" in frameworks:
            starts.append(("spie", "Diagnostic socio-professionnel", frameworks["spie"]))
        if person.has_child_under_3 and "potentialites" in frameworks:
            starts.append(("potentialites", "Grille des potentialités", frameworks["potentialites"]))
    completed = [d for d in diagnostics if d.is_completed]
    return render(request, "diagnostics/list.html", {
        "person": person,
        "access": access,
        "diagnostics": diagnostics,
        "starts": starts,
        "can_compare": len(completed) >= 2,
    })


@require_POST
@view_policy("diagnostics.start")
def start(request, pk):
    person, access = _load(request, pk)
    if not policies.can_start(access):
        raise PermissionDenied("Seuls les membres du groupe de suivi peuvent commencer un diagnostic.")
    code = request.POST.get("framework", "spie")
    if code not in selectors.current_frameworks():
        raise Http404("Trame inconnue.")
    existing = selectors.open_draft(person, code)
    try:
        diagnostic = services.start_diagnostic(person, request.membership, framework_code=code)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("diagnostics:list", pk=pk)
    if existing is not None and existing.pk == diagnostic.pk:
        messages.info(request, "Un brouillon de ce diagnostic existe déjà : vous le reprenez où il en était.")
    elif diagnostic.previous_id:
        messages.success(request, "Diagnostic commencé, pré-rempli avec les réponses du précédent : vérifiez-les "
                                  "avec la personne.")
    else:
        messages.success(request, "Diagnostic commencé.")
    return redirect("diagnostics:step", pk=pk, diagnostic_id=diagnostic.pk, step=1)


# --- the step-by-step form -----------------------------------------------------------------


def _fillable(request, pk, diagnostic_id):
    person, access = _load(request, pk)
    diagnostic = selectors.diagnostic_of(person, diagnostic_id)
    if diagnostic.is_completed:
        return person, access, diagnostic, None
    if not policies.can_fill(access, diagnostic):
        raise PermissionDenied("Vous ne pouvez pas remplir ce diagnostic.")
    return person, access, diagnostic, loaders.compiled_for(diagnostic.framework)


def _save_step(request, diagnostic, access, section):
    """Save one section from POST; ``(errors, typed)``. Picker errors keep the stored answer."""
    raw, typed, errors, codes = forms.raw_from_post(section, request.POST)
    for code in errors:
        raw.pop(code, None)
    shown = [code for code in codes if code not in errors]
    engine_errors = services.save_answers(diagnostic, raw, request.user, questions=shown, access=access)
    errors.update(engine_errors)
    return errors, typed


@view_policy("diagnostics.fill")
def step(request, pk, diagnostic_id, step):
    person, access, diagnostic, compiled = _fillable(request, pk, diagnostic_id)
    if compiled is None:
        messages.info(request, services.FROZEN_MESSAGE)
        return redirect("diagnostics:detail", pk=pk, diagnostic_id=diagnostic_id)
    steps = _steps(compiled, access)
    total = len(steps) + 1
    if not 1 <= step <= total:
        raise Http404
    is_last = step == total
    errors, typed, missing_error = {}, {}, None
    if request.method == "POST":
        action = request.POST.get("action", "next")
        try:
            if is_last:
                services.save_answers(diagnostic, {}, request.user, questions=[], access=access,
                                      person_words=request.POST.get("person_words", ""))
                if action == "complete":
                    services.complete_diagnostic(diagnostic, request.user, access=access,
                                                 structure=request.membership.structure)
                    messages.success(request, "Diagnostic terminé. Voici le profil et l'orientation proposée.")
                    return redirect("diagnostics:detail", pk=pk, diagnostic_id=diagnostic.pk)
            else:
                errors, typed = _save_step(request, diagnostic, access, steps[step - 1])
        except services.MissingAnswers as error:
            missing_error = error
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("diagnostics:detail", pk=pk, diagnostic_id=diagnostic.pk)
        if not errors and missing_error is None:
            target = {"next": step + 1, "previous": step - 1}.get(action, step)
            if action == "save":
                messages.success(request, f"Brouillon enregistré à {timezone.localtime():%H:%M}.")
            return redirect("diagnostics:step", pk=pk, diagnostic_id=diagnostic.pk, step=min(max(target, 1), total))
    _log(request, person, reason=f"saisie, étape {step}")
    context = {
        "person": person,
        "access": access,
        "diagnostic": diagnostic,
        "compiled": compiled,
        "steps": [(index, section.title) for index, section in enumerate(steps, start=1)] + [
            (total, "Fin du diagnostic")
        ],
        "step": step,
        "total": total,
        "is_last": is_last,
        "answered": engine.progress(compiled, diagnostic.answers or {}),
    }
    if is_last:
        context.update({
            "missing": _missing_by_step(diagnostic, compiled, steps),
            "missing_error": missing_error,
            "person_words": request.POST.get("person_words", diagnostic.person_words)
            if request.method == "POST" else diagnostic.person_words,
            "reminder": forms.SENSITIVE_REMINDER,
            "section_title": "Avec les mots de la personne, et fin du diagnostic",
        })
    else:
        section = steps[step - 1]
        labels = forms.picker_labels([section], diagnostic.answers or {})
        questions = forms.build_questions(section, diagnostic.answers or {}, raw=typed, errors=errors, labels=labels)
        context.update({
            "section": section,
            "section_title": section.title,
            "questions": questions,
            "errors": [q for q in questions if q.error],
        })
    return render(request, "diagnostics/step.html", context)


@require_POST
@view_policy("diagnostics.fill")
def autosave(request, pk, diagnostic_id, step):
    """htmx: save the step's answers as they change; returns a short status message."""
    person, access, diagnostic, compiled = _fillable(request, pk, diagnostic_id)
    if compiled is None:
        return render(request, "diagnostics/_autosave.html", {"frozen": True})
    steps = _steps(compiled, access)
    errors = {}
    if 1 <= step <= len(steps):
        errors, _typed = _save_step(request, diagnostic, access, steps[step - 1])
    elif step == len(steps) + 1:
        services.save_answers(diagnostic, {}, request.user, questions=[], access=access,
                              person_words=request.POST.get("person_words", ""))
    else:
        raise Http404
    labels = {code: compiled.questions[code].label for code in errors if code in compiled.questions}
    return render(request, "diagnostics/_autosave.html", {
        "saved_at": timezone.localtime(),
        "errors": [(labels.get(code, code), message) for code, message in errors.items()],
    })


# --- result, print, comparison -------------------------------------------------------------


def result_view(diagnostic, compiled, *, restricted):
    """The frozen result arranged for the result and print pages.

    Without access to restricted sections, the reasons coming from them (health) are
    replaced by a note: the severity of the theme stays visible, not its details.
    """
    result = selectors.full_result(diagnostic) or {}
    hidden = set() if restricted else compiled.restricted_themes
    theme_labels = dict(compiled.themes)
    for barrier in result.get("barriers", []):
        theme_labels.setdefault(barrier["theme"], barrier.get("label", barrier["theme"]))
    suggestions = {s["theme"]: s for s in result.get("suggestions", [])}
    barriers = []
    for barrier in result.get("barriers", []):
        theme = barrier["theme"]
        suggestion = suggestions.get(theme, {})
        barriers.append({
            "theme": theme,
            "label": barrier.get("label") or theme_labels.get(theme, theme),
            "severity": barrier["severity"],
            "severity_label": SEVERITY_LABELS.get(barrier["severity"], barrier["severity"]),
            "rank": SEVERITY_RANK.get(barrier["severity"], 0),
            "reasons": [RESTRICTED_NOTE] if theme in hidden else barrier.get("reasons", []),
            "objectives": suggestion.get("objectives", []),
            "actions": suggestion.get("actions", []),
            "thematiques": suggestion.get("thematiques", []),
        })
    ranks = {v: k for k, v in SEVERITY_RANK.items()}
    profile = [
        {
            "theme": theme,
            "label": theme_labels.get(theme, theme),
            "rank": rank,
            "severity_label": SEVERITY_LABELS.get(ranks.get(rank, Severity.NONE), ""),
        }
        for theme, rank in (result.get("profile") or {}).items()
    ]
    orientation = result.get("orientation")
    if orientation:
        hidden_prefixes = tuple(f"{theme_labels.get(t, t)} : " for t in hidden)
        reasons = []
        for reason in orientation.get("reasons", []):
            if hidden_prefixes and reason.startswith(hidden_prefixes):
                reason = reason.split(" : ", 1)[0] + " : " + RESTRICTED_NOTE.lower()
            if reason not in reasons:
                reasons.append(reason)
        orientation = {**orientation, "reasons": reasons,
                       "label": orientation.get("label") or orientation.get("type", "")}
    situations = [s for s in result.get("situations", []) if s.get("theme") not in hidden]
    return {
        "barriers": barriers,
        "profile": profile,
        "max_rank": MAX_RANK,
        "strengths": result.get("strengths", []),
        "orientation": orientation,
        "situations": situations,
    }


def answers_view(diagnostic, compiled, *, restricted):
    """``[{title, rows: [(label, text)]}]`` of the answered questions, section by section."""
    answers = diagnostic.answers or {}
    sections = forms.visible_sections(compiled, restricted=restricted)
    labels = forms.picker_labels(sections, answers)
    view = []
    for section in sections:
        rows = [
            (q.label, forms.display_answer(compiled, q.code, answers.get(q.code), labels))
            for q in section.questions
            if answers.get(q.code) not in (None, "", [])
        ]
        view.append({"title": section.title, "rows": rows})
    return view


@view_policy("diagnostics.detail")
def detail(request, pk, diagnostic_id):
    person, access = _load(request, pk)
    diagnostic = selectors.diagnostic_of(person, diagnostic_id)
    compiled = loaders.compiled_for(diagnostic.framework)
    restricted = policies.can_see_restricted(access)
    _log(request, person, reason="résultat" if diagnostic.is_completed else "brouillon")
    context = {
        "person": person,
        "access": access,
        "diagnostic": diagnostic,
        "compiled": compiled,
        "can_fill": policies.can_fill(access, diagnostic),
        "can_start": policies.can_start(access),
    }
    if diagnostic.is_completed:
        context.update(result_view(diagnostic, compiled, restricted=restricted))
        context["orientation_url"] = _orientation_url(person, diagnostic)
    else:
        steps = _steps(compiled, access)
        context.update({
            "answered": engine.progress(compiled, diagnostic.answers or {}),
            "missing": _missing_by_step(diagnostic, compiled, steps),
            "answers": answers_view(diagnostic, compiled, restricted=restricted),
        })
    return render(request, "diagnostics/detail.html", context)


@view_policy("diagnostics.print")
def print_view(request, pk, diagnostic_id):
    person, access = _load(request, pk)
    diagnostic = selectors.diagnostic_of(person, diagnostic_id)
    compiled = loaders.compiled_for(diagnostic.framework)
    restricted = policies.can_see_restricted(access)
    _log(request, person, reason="impression")
    context = {
        "person": person,
        "diagnostic": diagnostic,
        "compiled": compiled,
        "answers": answers_view(diagnostic, compiled, restricted=restricted),
        "printed_at": timezone.localtime(),
    }
    if diagnostic.is_completed:
        context.update(result_view(diagnostic, compiled, restricted=restricted))
    return render(request, "diagnostics/print.html", context)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@view_policy("diagnostics.compare")
def compare(request, pk):
    """What changed between two diagnostics of the person (answers and barrier severities)."""
    person, access = _load(request, pk)
    diagnostics = selectors.person_diagnostics(person)
    a_id, b_id = _int(request.GET.get("a")), _int(request.GET.get("b"))
    by_id = {d.pk: d for d in diagnostics}
    if (request.GET.get("a") and a_id not in by_id) or (request.GET.get("b") and b_id not in by_id):
        raise Http404("Diagnostic introuvable.")
    if a_id is None or b_id is None:
        completed = [d for d in diagnostics if d.is_completed]
        if b_id is None and completed:
            b_id = completed[0].pk
        if a_id is None and b_id is not None:
            b = by_id[b_id]
            older = [d for d in completed if d.framework.code == b.framework.code and d.pk != b_id
                     and (d.completed_at or d.started_at) <= (b.completed_at or b.started_at)]
            a_id = (b.previous_id if b.previous_id in by_id else None) or (older[0].pk if older else None)
    context = {"person": person, "diagnostics": diagnostics, "a_id": a_id, "b_id": b_id}
    if a_id is not None and b_id is not None and a_id != b_id:
        pair = {d.pk: d for d in selectors.diagnostics_with_answers(person, [a_id, b_id])}
        a, b = pair[a_id], pair[b_id]
        if a.framework.code != b.framework.code:
            context["error"] = "Ces deux diagnostics n'utilisent pas la même trame : choisissez-en deux du même type."
        else:
            context.update(comparison(a, b, restricted=policies.can_see_restricted(access)))
            context.update({"a": a, "b": b})
            _log(request, person, reason="comparaison")
    return render(request, "diagnostics/compare.html", context)


def comparison(a, b, *, restricted):
    compiled_a = loaders.compiled_for(a.framework)
    compiled_b = loaders.compiled_for(b.framework)
    hidden = set()
    if not restricted:
        hidden = set(compiled_a.restricted_questions) | set(compiled_b.restricted_questions)
    answers_a, answers_b = a.answers or {}, b.answers or {}
    changes = [c for c in engine.diff(compiled_b, answers_a, answers_b) if c["question"] not in hidden]
    picker = {
        c["question"] for c in changes
        if c["question"] in compiled_b.questions and compiled_b.questions[c["question"]].kind in {"rome", "commune"}
    }
    if picker:
        labels = forms.picker_labels(compiled_b.sections, {k: answers_a.get(k) for k in picker})
        labels.update(forms.picker_labels(compiled_b.sections, {k: answers_b.get(k) for k in picker}))
        for change in changes:
            if change["question"] in picker:
                code = change["question"]
                change["before"] = forms.display_answer(compiled_b, code, answers_a.get(code), labels)
                change["after"] = forms.display_answer(compiled_b, code, answers_b.get(code), labels)
    profile_a = (a.result or {}).get("profile") or {}
    profile_b = (b.result or {}).get("profile") or {}
    themes = dict(compiled_a.themes)
    themes.update(compiled_b.themes)
    ranks = {v: k for k, v in SEVERITY_RANK.items()}

    def label(rank):
        if rank is None:
            return "—"
        return SEVERITY_LABELS.get(ranks.get(rank, Severity.NONE), str(rank))

    severities = []
    for theme, theme_label in themes.items():
        before, after = profile_a.get(theme), profile_b.get(theme)
        if before is None and after is None:
            continue
        trend = ""
        if before is not None and after is not None and before != after:
            trend = "Amélioration" if after < before else "Aggravation"
        severities.append({
            "label": theme_label, "before": before, "after": after,
            "before_label": label(before), "after_label": label(after), "trend": trend,
        })
    return {
        "changes": changes,
        "severities": severities,
        "orientation_before": a.get_proposed_orientation_display() if a.proposed_orientation else "",
        "orientation_after": b.get_proposed_orientation_display() if b.proposed_orientation else "",
        "words_changed": (a.person_words or "") != (b.person_words or ""),
    }


# --- ROME picker ---------------------------------------------------------------------------


@view_policy(AUTHENTICATED)
@require_GET
def rome_options(request):
    """``<option>`` elements for the ROME pickers' ``<datalist>`` (htmx): ``?q=`` or ``?field=name``."""
    query = request.GET.get("q")
    if query is None:
        field = request.GET.get("field")
        if field and field not in {"field", "q"}:
            query = request.GET.get(field)
    return render(request, "diagnostics/rome_options.html", {"options": selectors.search_rome(query or "")})

