/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-card-view"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-barcode-image.h"
#include "ct-card-view.h"
#include "ct-format.h"
#include "ct-phone.h"

/* The member card as the cashier sees it: name, masked phone, level,
 * status, balance in large type, points, the card's barcode, and how
 * fresh the shown state is. */

struct _CtCardView
{
  AdwBin      parent_instance;

  GtkLabel   *name_label;
  GtkLabel   *details_label;
  GtkLabel   *status_label;
  GtkLabel   *balance_label;
  GtkLabel   *points_label;
  GtkSpinner *refresh_spinner;
  GtkLabel   *freshness_label;
  GtkPicture *barcode_picture;
  GtkLabel   *number_label;

  char       *barcode_text;
  CtMerchant *merchant;     /* for the name and benefits of the card's level */
};

G_DEFINE_FINAL_TYPE (CtCardView, ct_card_view, ADW_TYPE_BIN)

static void
ct_card_view_finalize (GObject *object)
{
  CtCardView *self = CT_CARD_VIEW (object);

  g_free (self->barcode_text);
  g_clear_pointer (&self->merchant, ct_merchant_free);

  G_OBJECT_CLASS (ct_card_view_parent_class)->finalize (object);
}

static void
ct_card_view_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), CT_TYPE_CARD_VIEW);

  G_OBJECT_CLASS (ct_card_view_parent_class)->dispose (object);
}

static void
ct_card_view_class_init (CtCardViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ct_card_view_dispose;
  object_class->finalize = ct_card_view_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-card-view.ui");
  gtk_widget_class_bind_template_child (widget_class, CtCardView, name_label);
  gtk_widget_class_bind_template_child (widget_class, CtCardView, details_label);
  gtk_widget_class_bind_template_child (widget_class, CtCardView, status_label);
  gtk_widget_class_bind_template_child (widget_class, CtCardView, balance_label);
  gtk_widget_class_bind_template_child (widget_class, CtCardView, points_label);
  gtk_widget_class_bind_template_child (widget_class, CtCardView, refresh_spinner);
  gtk_widget_class_bind_template_child (widget_class, CtCardView, freshness_label);
  gtk_widget_class_bind_template_child (widget_class, CtCardView, barcode_picture);
  gtk_widget_class_bind_template_child (widget_class, CtCardView, number_label);
}

static void
ct_card_view_init (CtCardView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

static char *
describe_age (gint64 fetched_at)
{
  gint64 minutes;

  if (fetched_at <= 0)
    return g_strdup (_("Not seen on this till before."));

  minutes = (g_get_real_time () - fetched_at) / G_USEC_PER_SEC / 60;
  if (minutes < 1)
    return g_strdup (_("Last known state, from less than a minute ago."));
  if (minutes < 120)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "Last known state, from %d minute ago.",
                                         "Last known state, from %d minutes ago.",
                                         (gulong) minutes),
                            (int) minutes);

  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "Last known state, from %d hour ago.",
                                       "Last known state, from %d hours ago.",
                                       (gulong) (minutes / 60)),
                          (int) (minutes / 60));
}

static void
update_barcode (CtCardView *self,
                const char *card_no)
{
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (self->barcode_text, card_no) == 0)
    return;

  g_free (self->barcode_text);
  self->barcode_text = g_strdup (card_no);

  if (card_no != NULL)
    texture = ct_barcode_image_texture_cached (card_no, CT_BARCODE_IMAGE_CODE128, &error);
  if (texture == NULL && error != NULL)
    g_debug ("No barcode for %s: %s", card_no, error->message);

  gtk_picture_set_paintable (self->barcode_picture, GDK_PAINTABLE (texture));
  gtk_widget_set_visible (GTK_WIDGET (self->barcode_picture), texture != NULL);
}

/**
 * ct_card_view_set_merchant:
 * @merchant: (nullable): the merchant's settings, for the card's level
 *
 * The next ct_card_view_set_card() shows the card's level by its name,
 * with what it gives.
 */
void
ct_card_view_set_merchant (CtCardView       *self,
                           const CtMerchant *merchant)
{
  g_return_if_fail (CT_IS_CARD_VIEW (self));

  g_clear_pointer (&self->merchant, ct_merchant_free);
  self->merchant = merchant != NULL ? ct_merchant_copy (merchant) : NULL;
}

const char *
ct_card_view_get_details_text (CtCardView *self)
{
  g_return_val_if_fail (CT_IS_CARD_VIEW (self), NULL);
  return gtk_label_get_label (self->details_label);
}

/**
 * ct_card_view_set_card:
 * @card: (nullable): the card to show
 * @refreshing: whether the fresh state is being fetched
 *
 * Shows @card. A card that came from the member cache is marked with
 * its age until the service answers.
 */
void
ct_card_view_set_card (CtCardView   *self,
                       const CtCard *card,
                       int           minor_units,
                       const char   *currency,
                       gboolean      refreshing)
{
  g_autofree char *balance = NULL;
  g_autofree char *points = NULL;
  g_autofree char *phone = NULL;
  g_autofree char *details = NULL;
  g_autofree char *status = NULL;
  g_autofree char *number = NULL;
  g_autofree char *freshness = NULL;
  gboolean known;

  g_return_if_fail (CT_IS_CARD_VIEW (self));

  if (card == NULL)
    {
      gtk_label_set_label (self->name_label, "");
      gtk_label_set_label (self->details_label, "");
      gtk_label_set_label (self->status_label, "");
      gtk_label_set_label (self->balance_label, "");
      gtk_label_set_label (self->points_label, "");
      gtk_label_set_label (self->freshness_label, "");
      gtk_label_set_label (self->number_label, "");
      gtk_spinner_stop (self->refresh_spinner);
      update_barcode (self, NULL);
      return;
    }

  /* A card never seen before has no state until the service answers. */
  known = !(card->from_cache && card->fetched_at == 0);

  number = ct_format_card_no (card->card_no);
  gtk_label_set_label (self->number_label, number);
  update_barcode (self, card->card_no);

  if (!known)
    {
      gtk_label_set_label (self->name_label, _("Looking up the card…"));
      gtk_label_set_label (self->details_label, "");
      gtk_label_set_label (self->status_label, "");
      gtk_label_set_label (self->balance_label, "—");
      gtk_label_set_label (self->points_label, "");
    }
  else
    {
      const CtLevel *level = ct_merchant_find_level (self->merchant, card->level);
      g_autofree char *level_text = level != NULL ? ct_format_level (level) : g_strdup (card->level);

      phone = ct_phone_mask (card->member_phone);
      if (level_text != NULL && *level_text != '\0' && *phone != '\0')
        details = g_strdup_printf ("%s · %s", phone, level_text);
      else if (*phone != '\0')
        details = g_strdup (phone);
      else
        details = g_strdup (level_text ? level_text : "");

      gtk_label_set_label (self->name_label,
                           card->member_name && *card->member_name ? card->member_name
                                                                   : _("Member"));
      gtk_label_set_label (self->details_label, details);

      status = g_strdup (ct_format_card_status (card->status));
      gtk_label_set_label (self->status_label, status);
      /* A closed card says which card replaced it. */
      if (card->status == CT_CARD_STATUS_CLOSED && card->replaced_by != NULL)
        {
          g_free (status);
          status = g_strdup_printf (_("Replaced by card %s"), card->replaced_by);
          gtk_label_set_label (self->status_label, status);
        }
      if (card->status == CT_CARD_STATUS_FROZEN || card->status == CT_CARD_STATUS_CLOSED)
        gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
      else
        gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");

      balance = ct_format_money (card->balance, minor_units, currency);
      gtk_label_set_label (self->balance_label, balance);

      {
        /* The count is formatted first: G_GINT64_FORMAT cannot sit inside
         * a translatable string. */
        g_autofree char *count = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) card->points);

        points = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s point", "%s points",
                                               (gulong) MIN (card->points, G_MAXLONG)),
                                  count);
      }
      gtk_label_set_label (self->points_label, points);
    }

  if (refreshing)
    {
      gtk_spinner_start (self->refresh_spinner);
      freshness = g_strdup (_("Refreshing from the card service…"));
    }
  else
    {
      gtk_spinner_stop (self->refresh_spinner);
      if (card->from_cache)
        freshness = describe_age (card->fetched_at);
      else
        freshness = g_strdup (_("Up to date."));
    }

  gtk_widget_set_visible (GTK_WIDGET (self->refresh_spinner), refreshing);
  gtk_label_set_label (self->freshness_label, freshness);
}

const char *
ct_card_view_get_balance_text (CtCardView *self)
{
  g_return_val_if_fail (CT_IS_CARD_VIEW (self), NULL);
  return gtk_label_get_label (self->balance_label);
}

const char *
ct_card_view_get_status_text (CtCardView *self)
{
  g_return_val_if_fail (CT_IS_CARD_VIEW (self), NULL);
  return gtk_label_get_label (self->status_label);
}

const char *
ct_card_view_get_freshness_text (CtCardView *self)
{
  g_return_val_if_fail (CT_IS_CARD_VIEW (self), NULL);
  return gtk_label_get_label (self->freshness_label);
}
