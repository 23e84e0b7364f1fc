"""Company management and the Options tab (Configuration > General information)."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from host.access import roles_required
from host.extensions import db
from host.forms import CompanyForm
from host.models import Company, CompanyOption, Role, utcnow
from host.regions import PROVINCES, province_choices, time_zone, zone_label

bp = Blueprint("companies", __name__)


def _province_map() -> dict:
    """Map each country to its provinces or states, ``[code, name, time zone, zone's name]``
    each, named in the reader's language and in the order of the form's list (issue 12
    point 1)."""
    found = {}
    for country in PROVINCES:
        found[country] = []
        for code, name in province_choices(country):
            zone = time_zone(country, code)
            found[country].append([code, str(name), zone, zone_label(zone)])
    return found


@bp.get("/company")
@roles_required(Role.ADMIN)
def mine():
    """Open Company management for the user's own shop."""
    if current_user.is_operator:
        return redirect(url_for("home.index"))
    return redirect(url_for("companies.edit", company_id=current_user.company_id))


@bp.route("/companies/new", methods=["GET", "POST"])
@roles_required()
def new():
    """Create a shop (operator)."""
    form = CompanyForm()
    if form.validate_on_submit():
        company = Company()
        for column, value in _values(form).items():
            setattr(company, column, value)
        db.session.add(company)
        db.session.commit()
        flash(_("Shop created."))
        return redirect(url_for("companies.edit", company_id=company.id))
    return render_template(
        "companies/edit.html", form=form, company=None, provinces=_province_map(), zone_name=""
    ), (422 if request.method == "POST" else 200)


@bp.route("/companies/<int:company_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit(company_id: int):
    """Edit Company management: name, V2V number, country, province, language.

    A plugin may refuse the changes (``veto_company_change``): then nothing is saved and
    each message is shown beside its field, status 422."""
    company = _company_or_404(company_id)
    form = CompanyForm(obj=company)
    if form.validate_on_submit():
        values = _values(form)
        changes = {
            column: (getattr(company, column), value)
            for column, value in values.items()
            if getattr(company, column) != value
        }
        if not _vetoed(form, company, changes):
            for column, value in values.items():
                setattr(company, column, value)
            db.session.commit()
            flash(_("Company saved."))
            return redirect(url_for("companies.edit", company_id=company.id))
        flash(_("Nothing was saved: see the message beside the field."), "error")
    return render_template(
        "companies/edit.html",
        form=form,
        company=company,
        provinces=_province_map(),
        zone_name=zone_label(company.time_zone),
    ), (422 if request.method == "POST" else 200)


@bp.route("/companies/<int:company_id>/options", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def options(company_id: int):
    """Show and save the shop's numbered options (the Options tab)."""
    company = _company_or_404(company_id)
    declared = current_app.extensions["shop_options"]
    rows = {o.number: o for o in db.session.query(CompanyOption).filter_by(company_id=company.id)}
    refusals: dict[int, list[str]] = {}
    if request.method == "POST":
        pm = current_app.extensions["plugin_manager"]
        changes = {
            n: f"option-{n}" in request.form
            for n in declared
            if (f"option-{n}" in request.form) != bool(rows.get(n) and rows[n].enabled)
        }
        for number, enabled in changes.items():
            found = pm.hook.veto_option_change(company=company, number=number, enabled=enabled)
            if messages := [m for m in found if m]:
                refusals[number] = messages
        # All or nothing: a refused option leaves every option as it was.
        if not refusals:
            for number, enabled in changes.items():
                row = rows.get(number) or CompanyOption(company_id=company.id, number=number)
                row.enabled, row.changed_at, row.changed_by_id = enabled, utcnow(), current_user.id
                db.session.add(row)
            db.session.commit()
            flash(_("Options saved."))
            return redirect(url_for("companies.options", company_id=company.id))
        flash(_("Nothing was saved: see the message beside the option."), "error")
    return render_template(
        "companies/options.html",
        company=company,
        declared=sorted(declared.values(), key=lambda o: o.number),
        enabled={n for n, r in rows.items() if r.enabled},
        refusals=refusals,
    ), (422 if refusals else 200)


def _company_or_404(company_id: int) -> Company:
    """Load the shop if the user may see it; 404 otherwise (never 403)."""
    company = db.session.get(Company, company_id)
    if company is None or (not current_user.is_operator and current_user.company_id != company_id):
        abort(404)
    return company


def _values(form: CompanyForm) -> dict:
    """Return the columns of Company management as the form would save them."""
    province = form.province.data or None
    return {
        "name": form.name.data.strip(),
        "v2v_number": (form.v2v_number.data or "").strip() or None,
        "country": form.country.data or None,
        "province": province,
        # Quebec shops speak French unless told otherwise.
        "language": form.language.data or ("fr" if province == "QC" else "en"),
    }


def _vetoed(form: CompanyForm, company: Company, changes: dict) -> bool:
    """Ask the plugins (``veto_company_change``) whether ``changes`` may be saved; put each
    refusal beside its field (or above the form) and tell whether any refused."""
    if not changes:
        return False
    pm = current_app.extensions["plugin_manager"]
    refused = False
    for found in pm.hook.veto_company_change(company=company, changes=changes):
        for column, message in (found or {}).items():
            if not message:
                continue
            refused = True
            field = form._fields.get(column)
            if field is None:
                flash(str(message), "error")
            else:
                field.errors = [*field.errors, message]
    return refused
