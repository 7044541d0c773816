"""Django admin for the housing stock, for superusers; geometry in the site's map editor."""

from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin

from geo.models import POI, Building, Estate, Operator, Region, Unit
from geo.widgets import LocalMapWidget


class MapAdmin(GISModelAdmin):
    gis_widget = LocalMapWidget


@admin.register(Region)
class RegionAdmin(MapAdmin):
    list_display = ["adcode", "name", "level", "parent"]
    list_filter = ["level", "is_demo"]
    search_fields = ["adcode", "name"]
    raw_id_fields = ["parent"]


@admin.register(Operator)
class OperatorAdmin(admin.ModelAdmin):
    list_display = ["name", "contact", "hotline"]
    search_fields = ["name"]


class BuildingInline(admin.TabularInline):
    model = Building
    fields = ["number", "floors", "elevator"]
    extra = 0
    show_change_link = True


@admin.register(Estate)
class EstateAdmin(MapAdmin):
    list_display = ["name", "district", "street", "operator", "published", "is_demo"]
    list_filter = ["published", "is_demo", "district"]
    list_select_related = ["district", "street", "operator"]
    search_fields = ["name", "address"]
    raw_id_fields = ["street", "community"]
    inlines = [BuildingInline]


@admin.register(Building)
class BuildingAdmin(MapAdmin):
    list_display = ["estate", "number", "floors", "elevator"]
    list_select_related = ["estate"]
    search_fields = ["estate__name", "number"]
    raw_id_fields = ["estate"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["building", "number", "floor", "rooms", "area", "monthly_rent", "status"]
    list_filter = ["status", "rooms", "accessible"]
    list_select_related = ["building__estate"]
    search_fields = ["building__estate__name", "number"]
    raw_id_fields = ["building"]


@admin.register(POI)
class POIAdmin(MapAdmin):
    list_display = ["name", "category"]
    list_filter = ["category", "is_demo"]
    search_fields = ["name"]
